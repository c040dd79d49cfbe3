// htm bound to Preact's h: the console's templates are tagged template literals, no build step.
import { h } from 'preact'
import htm from 'htm'

export const html = htm.bind(h)
