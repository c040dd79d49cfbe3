// Entry of the console page: styles, then the app mounted on #app.
import 'uplot/dist/uPlot.min.css'
import { render } from 'preact'
import { App } from './app'
import { markup } from './markup'

render(markup`<${App} />`, document.getElementById('app')!)
