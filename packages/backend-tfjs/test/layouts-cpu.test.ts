import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, expect } from 'vitest';
import { describeLayoutRules, describeLayouts } from './layouts.js';

beforeAll(async () => {
  expect(await tf.setBackend('cpu')).toBe(true);
});

describeLayouts('cpu');
describeLayoutRules();
