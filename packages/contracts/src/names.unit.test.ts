import { describe, expect, it } from 'vitest';
import { deliveryId, deliveryMsgId, parseDeliveryId, workMsgId } from './codec.ts';
import { CONSUMERS, apiSubjectTenant, kvKeys, subjects, taskKey } from './names.ts';

describe('names and ids built in one place', () => {
  it('keys a task by tenant and id, so two tenants\' tasks of one id stay apart', () => {
    expect(taskKey('acme', 'T1')).toBe('acme/T1');
    expect(taskKey('acme', 'T1')).not.toBe(taskKey('other', 'T1'));
  });

  it('gives a work message and a delivery record stable msgIDs', () => {
    expect(workMsgId('T1', 2)).toBe('work:T1:2');
    const id = deliveryId('T-1', 12, 3);
    expect(id).toBe('T-1-12-3');
    expect(parseDeliveryId(id)).toEqual({ taskId: 'T-1', seq: 12, index: 3 });
    expect(deliveryMsgId(id, 'delivered')).not.toBe(deliveryMsgId(id, 'delivery-failed'));
  });

  it('reads the tenant back from an API subject', () => {
    expect(apiSubjectTenant(subjects.api('acme', 'submit'))).toBe('acme');
    expect(apiSubjectTenant('errand.events.acme.T1')).toBeUndefined();
  });

  it('keeps the single notifier\'s names when there is one partition', () => {
    expect(CONSUMERS.notifierPartition(0, 1)).toBe(CONSUMERS.notifier);
    expect(kvKeys.notifierPartitionLease(0, 1)).toBe(kvKeys.notifierLease);
    expect(CONSUMERS.notifierPartition(2, 4)).toBe('errand-notifier-p2');
    expect(kvKeys.notifierPartitionLease(2, 4)).toBe('notifier-p2');
    expect(kvKeys.notifierMember('n1')).toMatch(/^notifier-member\./);
    expect(kvKeys.secret('acme', 'T1', 0)).toBe('acme.T1.0');
  });
});
