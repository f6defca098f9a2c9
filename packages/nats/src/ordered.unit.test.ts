import { describe, expect, it } from 'vitest';
import { placeDelivery } from './ordered.ts';

const at = (consumerSeq: number, streamSeq: number) => ({ consumerSeq, streamSeq, pending: 0 });

describe('placeDelivery', () => {
  it('hands on the next delivery', () => {
    expect(placeDelivery(0, 1, at(1, 1))).toBe('next');
    expect(placeDelivery(4, 10, at(5, 12))).toBe('next'); // stream sequences may skip (a filter, deleted messages)
  });

  it('sees a gap when a delivery is missing or comes again', () => {
    expect(placeDelivery(4, 10, at(6, 12))).toBe('gap');
    expect(placeDelivery(4, 10, at(4, 9))).toBe('gap');
    expect(placeDelivery(0, 1, at(2, 2))).toBe('gap');
  });

  it('never hands on a message before the one wanted', () => {
    expect(placeDelivery(0, 10, at(1, 9))).toBe('seen');
  });
});
