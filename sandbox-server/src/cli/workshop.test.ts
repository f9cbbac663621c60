import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteRepository } from '../store/sqlite.ts';
import { EXIT, main, parseWorkshopArgs, UsageError } from './workshop.ts';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs the CLI in-process against a fresh data folder; returns what it printed. */
async function run(argv: string[], dataDir: string) {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const code = await main(argv, { SIDECAR_LAB_DATA_DIR: dataDir, PORT: '4321' });
  vi.restoreAllMocks();
  return { code, stdout, stderr };
}

describe('npm run workshop: arguments', () => {
  it('names what is wrong', () => {
    expect(() => parseWorkshopArgs([])).toThrow(UsageError);
    expect(() => parseWorkshopArgs(['launch'])).toThrow('unknown command "launch"');
    expect(() => parseWorkshopArgs(['create', '--name', 'W', '--capacity', '3'])).toThrow('--duration');
    expect(() => parseWorkshopArgs(['create', '--name', 'W', '--capacity', '0', '--duration', '2h'])).toThrow(
      '--capacity',
    );
    expect(() => parseWorkshopArgs(['create', '--name', 'W', '--capacity', '3', '--duration', 'soon'])).toThrow(
      'a duration such as',
    );
    expect(() => parseWorkshopArgs(['end'])).toThrow('give --id ID or --code CODE');
    expect(() => parseWorkshopArgs(['export', '--id', 'x', '--format', 'xml'])).toThrow('--format');
    expect(() => parseWorkshopArgs(['list', '--bogus'])).toThrow(UsageError);
  });

  it('reads a create line', () => {
    expect(
      parseWorkshopArgs(['create', '--name', 'W', '--capacity', '3', '--duration', '1h30m', '--exercises', 'a, b']),
    ).toMatchObject({ command: 'create', args: { name: 'W', capacity: 3, duration: 90, exercises: ['a', 'b'] } });
  });
});

describe('npm run workshop: create, list, export on the data folder', () => {
  it('prints the code and the token once, stores only the hash, and lists and exports the workshop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slab-cli-'));
    dirs.push(dir);
    const created = await run(
      [
        'create',
        '--name',
        'Tuesday',
        '--capacity',
        '3',
        '--duration',
        '2h',
        '--exercises',
        'first-sidecar,proxy-sidecar',
      ],
      dir,
    );
    expect(created.code, created.stderr).toBe(EXIT.ok);
    const code = /Join code\s+(\S+)/.exec(created.stdout)?.[1];
    const token = /Instructor token\s+(\S+)/.exec(created.stdout)?.[1];
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.stdout).toContain(`http://127.0.0.1:4321/join/${code}`);
    expect(created.stdout).toMatch(/\/workshops\/[0-9a-f]{16}\/dashboard#token=/);
    // Nowhere on disk: not in the database, its write-ahead log, or the generated secret.
    for (const file of readdirSync(dir)) expect(readFileSync(join(dir, file)).includes(token!), file).toBe(false);

    const repo = new SqliteRepository(join(dir, 'sidecar-lab.db'));
    const [w] = await repo.workshops();
    expect(w).toMatchObject({ name: 'Tuesday', capacity: 3, exercises: ['first-sidecar', 'proxy-sidecar'] });
    await repo.joinWorkshop(
      { id: 'aaaaaaaaaaaaaaaa', workshop: w!.id, session: 's', name: 'Ada', joinedAt: w!.createdAt },
      3,
    );
    await repo.close();

    const list = await run(['list'], dir);
    expect(list.stdout).toContain(`${w!.id}  ${code}  running  1/3 learners`);
    const listed = JSON.parse((await run(['list', '--json'], dir)).stdout);
    expect(listed[0]).not.toHaveProperty('tokenHash');

    const csv = await run(['export', '--code', code!.toLowerCase()], dir);
    expect(csv.stdout).toBe(
      'learner,exercise,passed,attempts,first_pass_at\r\nAda,first-sidecar,false,0,\r\nAda,proxy-sidecar,false,0,\r\n',
    );
    const json = JSON.parse((await run(['export', '--id', w!.id, '--format', 'json'], dir)).stdout);
    expect(json.results).toHaveLength(2);
    expect((await run(['export', '--id', 'ffffffffffffffff'], dir)).code).toBe(EXIT.refused);
    expect((await run(['create', '--name', 'W', '--capacity', '3', '--duration', '9h'], dir)).code).toBe(EXIT.usage);
  });
});
