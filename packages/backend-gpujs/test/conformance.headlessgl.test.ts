import { conformanceSuite } from './conformance.js';
import { headlessglProblem } from './helpers.js';

// Needs gl built and a display (`xvfb-run -a`); otherwise headlessgl is reported as a known gap.
conformanceSuite('headlessgl', headlessglProblem());
