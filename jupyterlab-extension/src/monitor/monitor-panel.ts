/** The sidebar panel: a Lumino widget around `<ms-system-monitor>`, fed by the shared connection. */
import { Widget } from '@lumino/widgets';
import { ACTION_EVENT, type MsActionDetail } from '@mistudio/widgets';
import { SYSTEM_MONITOR_TAG, type SystemMonitorElement } from '@mistudio/widgets/system-monitor';
import type { HistoryRange, ByteUnits } from '@mistudio/widgets/system-monitor-types';
import type { MonitorConnection } from './monitor-connection.js';

export const MONITOR_PANEL_ID = 'mistudio-system-monitor';

export class SystemMonitorPanel extends Widget {
  private readonly unsubscribe: () => void;

  constructor(connection: MonitorConnection) {
    super();
    this.id = MONITOR_PANEL_ID;
    this.addClass('jp-MiStudio-monitorPanel');
    this.title.caption = 'miStudio system monitor: CPU, RAM, disks, network, GPUs';
    const element = document.createElement(SYSTEM_MONITOR_TAG) as SystemMonitorElement;
    this.node.appendChild(element);
    this.unsubscribe = connection.subscribe((view) => {
      element.sample = view.sample;
      element.history = view.history;
      element.status = view.state.status;
      element.failures = view.state.failures;
      element.message = view.state.message;
      element.intervalSeconds = view.settings.intervalSeconds;
      element.units = view.settings.units;
      element.range = view.settings.range;
    });
    element.addEventListener(ACTION_EVENT, (event) => {
      const { action, payload } = (event as CustomEvent<MsActionDetail<Record<string, unknown>>>).detail;
      if (action === 'set-range') connection.setRange(payload.range as HistoryRange);
      else if (action === 'set-settings') connection.setSettings(payload.intervalSeconds as number, payload.units as ByteUnits);
      else if (action === 'retry') connection.retry();
    });
  }

  override dispose(): void {
    this.unsubscribe();
    super.dispose();
  }
}
