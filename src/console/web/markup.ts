// htm bound to Preact's h: the console's templates are tagged template literals, no build step.
// Named markup, not html: a formatter would otherwise reflow the templates as HTML and change
// their whitespace (htm drops whitespace that holds a line break).
import { h } from 'preact'
import htm from 'htm'

export const markup = htm.bind(h)
