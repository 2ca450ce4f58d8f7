export default function ModelerPage() { return <div className="page">流程建模</div>; }
