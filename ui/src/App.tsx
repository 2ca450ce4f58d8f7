import { Suspense, useEffect, type ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import { AuthProvider, useAuth } from './auth';
import { setUnauthorizedHandler } from './api/client';
import { canModel, isSeparateApp, landingPath } from './lib/roles';
import Layout from './components/Layout';
import { Loading } from './components/common';
import { lazyPage, PageFallback } from './routes/lazyPage';

// Every page is code-split (issue 22.3): it loads only when opened, in its own Suspense boundary, so a village
// doctor's phone never downloads bpmn-js, dmn-js or ECharts. New pages: `const XPage = lazyPage(() => import(...))`.
const LoginPage = lazyPage(() => import('./pages/LoginPage'));
const InboxPage = lazyPage(() => import('./pages/InboxPage'));
const TaskPage = lazyPage(() => import('./pages/TaskPage'));
const ModelerPage = lazyPage(() => import('./pages/modeler/ModelerPage'));
const InstancesPage = lazyPage(() => import('./pages/InstancesPage'));
const InstancePage = lazyPage(() => import('./pages/InstancePage'));
const ResidentsPage = lazyPage(() => import('./pages/ResidentsPage'));
const ResidentPage = lazyPage(() => import('./pages/ResidentPage'));
const DashboardsPage = lazyPage(() => import('./pages/DashboardsPage'));
const FollowUpsPage = lazyPage(() => import('./pages/FollowUpsPage'));
const ScreeningPage = lazyPage(() => import('./pages/ScreeningPage'));
const BatchesPage = lazyPage(() => import('./pages/BatchesPage'));
const IntegrationsPage = lazyPage(() => import('./pages/IntegrationsPage'));
const ClockPage = lazyPage(() => import('./pages/ClockPage'));
const SupplyPage = lazyPage(() => import('./pages/supply/SupplyPage'));
const PharmacyPage = lazyPage(() => import('./pages/pharmacy/PharmacyPage'));
const PrescriptionPage = lazyPage(() => import('./pages/pharmacy/PrescriptionPage'));
const AnticoagPage = lazyPage(() => import('./pages/anticoag/AnticoagPage'));
const AnticoagEpisodePage = lazyPage(() => import('./pages/anticoag/EpisodePage'));
const TrainingPage = lazyPage(() => import('./pages/training/TrainingPage'));
const ResearchPage = lazyPage(() => import('./pages/research/ResearchPage'));
const ResearchProjectPage = lazyPage(() => import('./pages/research/ProjectPage'));
const PlanPage = lazyPage(() => import('./pages/training/PlanPage'));
const SessionPage = lazyPage(() => import('./pages/training/SessionPage'));
const VenueScreenPage = lazyPage(() => import('./pages/training/VenueScreenPage'));
const MyTrainingPage = lazyPage(() => import('./pages/training/MyTrainingPage'));
const SignInPage = lazyPage(() => import('./pages/training/SignInPage'));
const ExamPage = lazyPage(() => import('./pages/training/ExamPage'));
const TranscriptPage = lazyPage(() => import('./pages/training/TranscriptPage'));
const ItemBankPage = lazyPage(() => import('./pages/training/ItemBankPage'));
const TrainingDashboardPage = lazyPage(() => import('./pages/training/TrainingDashboardPage'));
const ReferralsPage = lazyPage(() => import('./pages/referral/ReferralsPage'));
const NetworkRecordPage = lazyPage(() => import('./pages/NetworkRecordPage'));
const ReferralPage = lazyPage(() => import('./pages/referral/ReferralPage'));
const ReferralDashboardPage = lazyPage(() => import('./pages/referral/ReferralDashboardPage'));
const QualityPage = lazyPage(() => import('./pages/quality/QualityPage'));
const ReportBuilderPage = lazyPage(() => import('./pages/reports/ReportBuilderPage'));
const AppraisalPage = lazyPage(() => import('./pages/appraisal/AppraisalPage'));
const ContractsPage = lazyPage(() => import('./pages/contracting/ContractsPage'));
const ContractPage = lazyPage(() => import('./pages/contracting/ContractPage'));
const PackagesPage = lazyPage(() => import('./pages/contracting/PackagesPage'));
const LivePage = lazyPage(() => import('./components/live/LivePage'));
const ConsultsPage = lazyPage(() => import('./pages/consult/ConsultsPage'));
const ConsultPage = lazyPage(() => import('./pages/consult/ConsultPage'));
const NewConsultPage = lazyPage(() => import('./pages/consult/NewConsultPage'));
const InterventionCentrePage = lazyPage(() => import('./pages/intervention/InterventionCentrePage'));
const InterventionCasePage = lazyPage(() => import('./pages/intervention/InterventionCasePage'));
const LiaisonRotaPage = lazyPage(() => import('./pages/liaison/RotaPage'));
const LiaisonWeekPage = lazyPage(() => import('./pages/liaison/WeekPage'));
const LiaisonPlansPage = lazyPage(() => import('./pages/liaison/PlansPage'));

function RequireAuth({ children }: { children: ReactNode }) {
  const { me, loading } = useAuth();
  const location = useLocation();
  if (loading) return <Loading text="正在确认登录状态…" />;
  if (!me) return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  return <>{children}</>;
}

/** The modeler is for process owners (the server answers 403 to a direct load; this covers in-app navigation). */
function RequireModeler({ children }: { children: ReactNode }) {
  const { me } = useAuth();
  if (!canModel(me?.roles ?? [])) {
    return (
      <div className="page" data-testid="forbidden">
        <h1>无权访问</h1>
        <p>流程建模仅对流程负责人和县级管理员开放。</p>
        <p>
          <a href="/inbox">返回待办</a>
        </p>
      </div>
    );
  }
  return <>{children}</>;
}

/** 401 anywhere → the login page, remembering where the user was, without a full reload. */
function UnauthorizedRedirect() {
  const navigate = useNavigate();
  const { refresh } = useAuth();
  useEffect(() => {
    setUnauthorizedHandler(() => {
      if (window.location.pathname === '/login') return;
      const next = window.location.pathname + window.location.search;
      void refresh();
      navigate(`/login?next=${encodeURIComponent(next)}`, { replace: true });
    });
  }, [navigate, refresh]);
  return null;
}

/** `/`: each role on its own home (lib/roles.ts landingPath, issue 22.5). */
function Landing() {
  const { me } = useAuth();
  const to = landingPath(me?.roles ?? []);
  const elsewhere = isSeparateApp(to);
  useEffect(() => {
    if (elsewhere) window.location.replace(to); // the portal is its own app: main.tsx picks it at page load
  }, [elsewhere, to]);
  if (elsewhere) return <PageFallback />;
  return to === '/inbox' ? <InboxPage /> : <Navigate to={to} replace />;
}

function NotFound() {
  return (
    <div className="page">
      <h1>页面不存在</h1>
      <p>
        <a href="/inbox">返回待办</a>
      </p>
    </div>
  );
}

export default function App() {
  return (
    <BrowserRouter>
      <AuthProvider>
        <UnauthorizedRedirect />
        <Suspense fallback={<PageFallback />}>
          <Routes>
            <Route path="/login" element={<LoginPage />} />
            <Route path="/training/sessions/:id/screen" element={<RequireAuth><VenueScreenPage /></RequireAuth>} />
            <Route
              element={
                <RequireAuth>
                  <Layout />
                </RequireAuth>
              }
            >
              <Route index element={<Landing />} />
              <Route path="inbox" element={<InboxPage />} />
              <Route path="tasks/:id" element={<TaskPage />} />
              <Route path="modeler" element={<RequireModeler><ModelerPage /></RequireModeler>} />
              <Route path="clock" element={<RequireModeler><ClockPage /></RequireModeler>} />
              <Route path="instances" element={<InstancesPage />} />
              <Route path="instances/:id" element={<InstancePage />} />
              <Route path="residents" element={<ResidentsPage />} />
              <Route path="residents/:id" element={<ResidentPage />} />
              <Route path="residents/:id/network-record" element={<NetworkRecordPage />} />
              <Route path="dashboards" element={<DashboardsPage />} />
              <Route path="follow-ups" element={<FollowUpsPage />} />
              <Route path="screening" element={<ScreeningPage />} />
              <Route path="batches" element={<BatchesPage />} />
              <Route path="batches/:id" element={<BatchesPage />} />
              <Route path="integrations" element={<IntegrationsPage />} />
              <Route path="supply" element={<SupplyPage />} />
              <Route path="pharmacy" element={<PharmacyPage />} />
              <Route path="pharmacy/prescriptions/:id" element={<PrescriptionPage />} />
              <Route path="anticoag" element={<AnticoagPage />} />
              <Route path="anticoag/:id" element={<AnticoagEpisodePage />} />
              <Route path="training" element={<TrainingPage />} />
              <Route path="training/plans/:id" element={<PlanPage />} />
              <Route path="training/sessions/:id" element={<SessionPage />} />
              <Route path="training/my" element={<MyTrainingPage />} />
              <Route path="training/my/:id" element={<MyTrainingPage />} />
              <Route path="training/sign-in/:id" element={<SignInPage />} />
              <Route path="training/exam/:id" element={<ExamPage />} />
              <Route path="training/transcript" element={<TranscriptPage />} />
              <Route path="training/transcript/:userId" element={<TranscriptPage />} />
              <Route path="training/items" element={<ItemBankPage />} />
              <Route path="training/dashboard" element={<TrainingDashboardPage />} />
              <Route path="referrals" element={<ReferralsPage />} />
              <Route path="referrals/dashboard" element={<ReferralDashboardPage />} />
              <Route path="referrals/:id" element={<ReferralPage />} />
              <Route path="consults" element={<ConsultsPage />} />
              <Route path="consults/new" element={<NewConsultPage />} />
              <Route path="consults/:id" element={<ConsultPage />} />
              <Route path="intervention" element={<InterventionCentrePage />} />
              <Route path="intervention/cases/:id" element={<InterventionCasePage />} />
              <Route path="liaison/rota" element={<LiaisonRotaPage />} />
              <Route path="liaison/week" element={<LiaisonWeekPage />} />
              <Route path="liaison/plans" element={<LiaisonPlansPage />} />
              <Route path="quality" element={<QualityPage />} />
              <Route path="reports" element={<ReportBuilderPage />} />
              <Route path="appraisal" element={<AppraisalPage />} />
              <Route path="research" element={<ResearchPage />} />
              <Route path="research/:id" element={<ResearchProjectPage />} />
              <Route path="contracts" element={<ContractsPage />} />
              <Route path="contracts/packages" element={<PackagesPage />} />
              <Route path="contracts/:id" element={<ContractPage />} />
              <Route path="live" element={<LivePage />} />
              <Route path="live/:kind/:ref" element={<LivePage />} />
              <Route path="*" element={<NotFound />} />
            </Route>
          </Routes>
        </Suspense>
      </AuthProvider>
    </BrowserRouter>
  );
}
