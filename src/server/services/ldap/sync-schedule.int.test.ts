/**
 * The interval schedule of the user sync, end to end over the real services and a real slapd:
 * the test moves a manual clock and calls `tick()` (the background timer's job), so nothing
 * sleeps, and changes the settings between ticks to show they apply without a restart.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-config.ts';
import { openMemoryStore } from '../../storage/level-store.ts';
import type { Store } from '../../storage/store.ts';
import { manualClock } from '../../test-support/identity-fixtures.ts';
import { ADMIN_DN, ADMIN_PASSWORD, PEOPLE_DN, type Person, type Slapd, startSlapd } from '../../test-support/slapd.ts';
import { createServices, type Services } from '../create-services.ts';

const MINUTE = 60_000;
const erin: Person = { uid: 'erin', password: 'erin-secret-55555', cn: 'Erin Hannon' };

let slapd: Slapd;
let store: Store;
let services: Services;
const clock = manualClock();
const errors: string[] = [];

beforeAll(async () => {
  slapd = await startSlapd();
});
afterAll(async () => {
  await slapd.stop();
});
beforeEach(async () => {
  clock.set(Date.parse('2030-01-01T00:00:00.000Z'));
  errors.length = 0;
  store = await openMemoryStore();
  const { config } = loadConfig({ env: {}, cwd: '/' });
  services = createServices(config, { store, clock: clock.now, passwordCost: 4, kdfCost: { N: 2 ** 10, r: 8, p: 1 }, onError: (_err, context) => errors.push(context) });
  await services.keys.load();
});
afterEach(async () => {
  await services.audit.flush();
  await store.close();
  await slapd.removePerson(erin.uid).catch(() => undefined);
});

async function schedule(schedule: Record<string, unknown>, ldap: Record<string, unknown> = {}): Promise<void> {
  const source = { id: 'corp', ldap: { address: slapd.ldapUrl, bind_dn: ADMIN_DN, bind_password: ADMIN_PASSWORD, user_base_dn: PEOPLE_DN, ...ldap }, schedule };
  await services.settings.update({ auth: { user_sync: [source] } }, 'set');
}

const usernames = async () => (await services.users.all()).map((u) => u.username).sort();

describe('user-sync schedule', () => {
  it('runs an interval source when due and picks up directory changes on the next due tick', async () => {
    await schedule({ mode: 'interval', interval_minutes: 15 });
    expect(await services.syncScheduler.tick()).toEqual(['corp']);
    expect(await usernames()).toEqual(['alice', 'bob', 'carol']);

    await slapd.addPerson(erin);
    clock.advance(14 * MINUTE);
    expect(await services.syncScheduler.tick()).toEqual([]);
    expect(await usernames()).not.toContain('erin');
    clock.advance(MINUTE);
    expect(await services.syncScheduler.tick()).toEqual(['corp']);
    expect(await usernames()).toContain('erin');

    const [status] = await services.userSync.lastResults();
    expect(status?.last).toMatchObject({ trigger: 'scheduler', created: 1, unchanged: 3, started_at: new Date(clock.now()).toISOString() });
    await services.audit.flush();
    const audit = await services.audit.query({ limit: 10, offset: 0, action: 'user_sync.run' });
    expect(audit.entries.map((e) => [e.actor, e.status])).toEqual([['scheduler', 200], ['scheduler', 200]]);
  });

  it('reads the schedule on every tick: interval changes, manual mode and disabling apply without a restart', async () => {
    await schedule({ mode: 'manual' });
    expect(await services.syncScheduler.tick()).toEqual([]);
    await schedule({ mode: 'interval', interval_minutes: 60 });
    expect(await services.syncScheduler.tick()).toEqual(['corp']);
    clock.advance(30 * MINUTE);
    expect(await services.syncScheduler.tick()).toEqual([]);
    await schedule({ mode: 'interval', interval_minutes: 30 });
    expect(await services.syncScheduler.tick()).toEqual(['corp']);
    clock.advance(3 * 60 * MINUTE);
    await services.settings.update({ auth: { user_sync: [{ id: 'corp', enabled: false, ldap: { address: slapd.ldapUrl, user_base_dn: PEOPLE_DN }, schedule: { mode: 'interval' } }] } }, 'set');
    expect(await services.syncScheduler.tick()).toEqual([]);
  });

  it('stores a failed scheduled run, reports it, and retries only after the interval', async () => {
    await schedule({ mode: 'interval', interval_minutes: 10 }, { address: slapd.deadUrl });
    expect(await services.syncScheduler.tick()).toEqual(['corp']);
    expect(errors).toEqual(['user sync of "corp"']);
    const [status] = await services.userSync.lastResults();
    expect(status?.last?.errors).toEqual([expect.stringContaining('LDAP directory')]);
    clock.advance(5 * MINUTE);
    expect(await services.syncScheduler.tick()).toEqual([]);
    await schedule({ mode: 'interval', interval_minutes: 10 });
    clock.advance(5 * MINUTE);
    expect(await services.syncScheduler.tick()).toEqual(['corp']);
    expect(await usernames()).toEqual(['alice', 'bob', 'carol']);
  });
});
