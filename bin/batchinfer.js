#!/usr/bin/env node
// The bundled CLI; `npm ci` builds dist/ through the `prepare` script (tsc, then scripts/bundle.mjs).
import '../dist/batchinfer.js';
