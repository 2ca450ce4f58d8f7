/** Inbound deliveries (webhook, HL7 v2, FHIR): status names, badge colours, which ones may be replayed. */
import { vocabMap } from './vocabulary';

export const DELIVERY_STATUS = vocabMap('delivery_status');

export const CHANNELS: Record<string, string> = { webhook: 'Webhook', hl7v2: 'HL7 v2', fhir: 'FHIR' };

/** The server replays failed, rejected, expired and waiting deliveries (409 not_replayable otherwise). */
export function isReplayable(status: string | null | undefined): boolean {
  return ['failed', 'rejected', 'expired', 'waiting'].includes(status ?? '');
}

export function deliveryStatusClass(status: string | null | undefined): string {
  switch (status) {
    case 'processed':
      return 'badge-ok';
    case 'failed':
    case 'rejected':
      return 'badge-danger';
    case 'expired':
    case 'waiting':
      return 'badge-warn';
    default:
      return 'badge-info';
  }
}
