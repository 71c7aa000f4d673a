#!/usr/bin/env node
// A committed entry point, so npm links the `didbase` command at install time, before the
// TypeScript build has produced dist/.
import '../dist/cli/main.js'
