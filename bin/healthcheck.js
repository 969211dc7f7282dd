#!/usr/bin/env node
// The Docker image's HEALTHCHECK: exit 0 when the Kotak that KOTAK_HTTP / KOTAK_HTTP_BASE_PATH describe answers /livez.
import { checkHealth } from '../dist/healthcheck.js';

process.exitCode = (await checkHealth(process.env, (line) => console.error(line))) ? 0 : 1;
