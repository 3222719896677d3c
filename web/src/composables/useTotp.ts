import QRCode from 'qrcode';
import { ref } from 'vue';
import { beginTotp, disableTotp, finishTotp, getTotp, newRecoveryCodes, type TotpEnrollment } from '~/api/me.ts';
import type { TotpStatus } from '~/api/users.ts';
import { useTask } from '~/composables/useTask.ts';

/**
 * Your own two-factor sign-in: status, enrollment (secret + QR code rendered locally to a
 * data: URL — the secret never leaves the page), confirmation, recovery codes (kept only until
 * dismissed), new codes and turning it off (both need the password).
 */
export function useTotp() {
  const status = ref<TotpStatus>();
  const enrollment = ref<TotpEnrollment & { qr: string }>();
  const recoveryCodes = ref<string[]>();
  const { busy, run } = useTask();

  const refresh = async () => (status.value = await getTotp());
  const load = () => run(refresh);

  const begin = () =>
    run(async () => {
      const started = await beginTotp();
      const qr = await QRCode.toDataURL(started.otpauth_url, { margin: 2, width: 200, errorCorrectionLevel: 'M' });
      enrollment.value = { ...started, qr };
    });

  const finish = (code: string) =>
    run(async () => {
      recoveryCodes.value = (await finishTotp(code.replace(/\s+/g, ''))).recovery_codes;
      enrollment.value = undefined;
      await refresh();
    }, 'Two-factor sign-in is on');

  const cancel = () => (enrollment.value = undefined);

  const regenerate = (password: string) =>
    run(async () => {
      recoveryCodes.value = (await newRecoveryCodes(password)).recovery_codes;
      await refresh();
    }, 'New recovery codes made; the old ones no longer work');

  const disable = (password: string) =>
    run(async () => {
      await disableTotp(password);
      recoveryCodes.value = undefined;
      await refresh();
    }, 'Two-factor sign-in is off');

  const forgetCodes = () => (recoveryCodes.value = undefined);

  return { status, enrollment, recoveryCodes, busy, load, begin, finish, cancel, regenerate, disable, forgetCodes };
}
