/**
 * Imported first by the package's entry points, for its side effect: on a Node.js older than
 * didbase supports, loading the package throws `UnsupportedRuntimeError` before the network
 * stack loads (ES modules run their imports in order, so nothing after this has run yet).
 */
import { unsupportedRuntime } from './node-version.js'

const problem = unsupportedRuntime()
if (problem !== undefined) throw problem
