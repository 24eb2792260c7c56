/**
 * The plain-data shapes the monitor service produces. They are the data shapes of the sidebar
 * widgets `<ms-system-monitor>` / `<ms-system-status>`, so (as for every widget) they are declared
 * once, in `@mistudio/widgets`, with the pure sample → history-point mapping; core produces them
 * (no UI code is loaded: that module holds data shapes only).
 */
export type {
  MonitorSample,
  CpuSample,
  MemorySample,
  ContainerSample,
  DiskUsage,
  IoRates,
  NetworkRates,
  GpuSample,
  GpuProcess,
  MigDevice,
  HistoryPoint,
  HistoryGpuPoint,
  HistoryRange,
  HistoryResponse,
} from '@mistudio/widgets/system-monitor-types';
export { historyPointOf } from '@mistudio/widgets/system-monitor-types';
