export { answerHealth, type HealthAnswer } from './answer.js';
export {
  HealthChecker,
  HEALTH_JITTER,
  SETUP_RETRY_INITIAL_MS,
  failureState,
  healthTarget,
  type HealthCheckerOptions,
  type HealthTarget,
  type HealthTimers,
} from './HealthChecker.js';
export {
  READINESS_SUMMARY,
  ReadinessTracker,
  computeReadiness,
  startupFinished,
  type PluginReadiness,
  type PluginReadinessInput,
  type PluginSetReadiness,
  type ReadinessCode,
  type ReadinessInput,
  type ReadinessReport,
} from './readiness.js';
export {
  createProbeHandler,
  type ProbeHandler,
  type ProbeOptions,
  type ProbeSource,
} from './probe.js';
