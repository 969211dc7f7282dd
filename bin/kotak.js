#!/usr/bin/env node
// The `kotak` command. The TypeScript sources are compiled to dist/ by `npm install` (prepare).
import '../dist/main.js';
