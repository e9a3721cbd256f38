import { optimizerSuite } from './optimizers.js';

optimizerSuite('cpu');
