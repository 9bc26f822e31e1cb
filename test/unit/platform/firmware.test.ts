import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const INIT = 'firmware-image/openwrt/files/etc/init.d/gleand';

describe('OpenWrt init script', () => {
  const text = readFileSync(INIT, 'utf8');

  it('is valid POSIX sh (busybox ash runs it)', () => {
    expect(() => execFileSync('sh', ['-n', INIT])).not.toThrow();
  });

  it('is a procd service: respawn, logs to logd, reload trigger on its config, reload = SIGHUP', () => {
    expect(text).toMatch(/^#!\/bin\/sh \/etc\/rc\.common$/m);
    expect(text).toMatch(/^USE_PROCD=1$/m);
    expect(text).toMatch(/procd_set_param respawn/);
    expect(text).toMatch(/procd_set_param stdout 1/);
    expect(text).toMatch(/procd_set_param stderr 1/);
    expect(text).toMatch(/procd_add_reload_trigger "gleand"/);
    expect(text).toMatch(/reload_service\(\) \{\s*procd_send_signal gleand '\*' HUP\s*\}/);
    expect(text).toMatch(/run -c "\$CONFIG"/);
  });
});
