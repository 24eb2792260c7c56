/**
 * The plain-data shapes the monitor service produces. They are the data shapes of the sidebar
 * widgets `<ms-system-monitor>` / `<ms-system-status>`, so (as for every widget) they are declared
 * once, in `@mistudio/widgets`, and core produces them (a type-only dependency: no UI code is loaded).
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
