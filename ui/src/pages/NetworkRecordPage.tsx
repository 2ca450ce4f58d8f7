import { Link, useParams, useSearchParams } from 'react-router-dom';
import NetworkRecord from '../components/network_record/NetworkRecord';

/** 全网记录 on its own page: the way in for a clinician who receives the patient through a referral or a remote
 * consult but has no access to the resident page (the patient is outside their organisation). The API decides who
 * may read it (open referral or consult) and answers 404 once that has ended. */
export default function NetworkRecordPage() {
  const id = useParams().id ?? '';
  const [params] = useSearchParams();
  const back = params.get('from');
  return (
    <div className="page" data-testid="network-record-page">
      {back && back.startsWith('/') && !back.startsWith('//') && (
        <Link to={back} className="back">← 返回</Link>
      )}
      <NetworkRecord residentId={id} />
    </div>
  );
}
