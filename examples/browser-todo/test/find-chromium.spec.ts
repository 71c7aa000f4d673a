import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { findChromium, type Machine } from './find-chromium.ts'

describe('findChromium', () => {
  const saved = process.env.CHROMIUM_PATH
  afterEach(() => {
    if (saved === undefined) delete process.env.CHROMIUM_PATH
    else process.env.CHROMIUM_PATH = saved
  })
  const bare = (platform: NodeJS.Platform, systemPaths: string[] = []): Machine => ({ env: { PATH: '' }, systemPaths, platform, arch: 'x64' })

  it('takes CHROMIUM_PATH first when it names an executable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'didbase-chromium-'))
    const fake = join(dir, 'chrome')
    await writeFile(fake, '#!/bin/sh\n')
    await chmod(fake, 0o755)
    process.env.CHROMIUM_PATH = fake
    await expect(findChromium()).resolves.toMatchObject({ executablePath: fake, source: 'CHROMIUM_PATH' })
    await rm(dir, { recursive: true })
  })

  it('refuses a CHROMIUM_PATH that is not an executable, naming it', async () => {
    process.env.CHROMIUM_PATH = join(tmpdir(), 'no-such-chromium')
    await expect(findChromium()).rejects.toMatchObject({ name: 'NoChromiumError', message: expect.stringContaining('CHROMIUM_PATH is') })
  })

  it('takes a system browser before the bundled one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'didbase-chromium-'))
    const fake = join(dir, 'chromium')
    await writeFile(fake, '#!/bin/sh\n')
    await chmod(fake, 0o755)
    await expect(findChromium(bare('linux', [join(dir, 'missing'), fake]))).resolves.toMatchObject({ executablePath: fake, source: 'system' })
    await rm(dir, { recursive: true })
  })

  it('on a machine with no browser and none bundled for it, says to set CHROMIUM_PATH', async () => {
    await expect(findChromium(bare('darwin'))).rejects.toMatchObject({ name: 'NoChromiumError', message: expect.stringContaining('set CHROMIUM_PATH') })
  })
})
