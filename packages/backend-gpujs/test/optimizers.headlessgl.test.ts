import { headlessglProblem } from './helpers.js';
import { optimizerSuite } from './optimizers.js';

// headless-gl needs the optional `gl` package built and a display (`xvfb-run -a`); without them this mode is a known gap.
// GLSL compilation is slow (every kernel is compiled twice: for host arrays, then for textures), so this mode runs
// the first two option sets of each optimizer for 6 steps.
optimizerSuite('headlessgl', headlessglProblem(), { optionSets: 2, steps: 6 });
