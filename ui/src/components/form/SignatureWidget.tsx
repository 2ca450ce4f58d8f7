/** `"ui:widget": "signature"`: a signature drawn on the phone canvas, stored as a PNG data URL (the consult's consent
 * form opened from the inbox uses it like the consult page does). */
import type { WidgetProps } from '@rjsf/utils';
import SignaturePad from '../SignaturePad';

export default function SignatureWidget({ onChange, value }: WidgetProps) {
  return (
    <div>
      <SignaturePad onChange={(dataUrl) => onChange(dataUrl ?? undefined)} />
      {value ? <div className="muted">已签名</div> : <div className="muted">请在上方手写签名</div>}
    </div>
  );
}
