import { optimizerSuite } from './optimizers.js';

optimizerSuite('webasm');
