import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect } from 'vitest';
import './tfjs-adapter.js'; // points tfjs-backend-wasm at its .wasm files
import { describeLayouts } from './layouts.js';

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
});

describeLayouts('wasm');
