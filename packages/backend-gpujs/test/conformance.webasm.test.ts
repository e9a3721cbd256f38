import { conformanceSuite } from './conformance.js';

conformanceSuite('webasm');
