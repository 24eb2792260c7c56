/** The status-bar item: `<ms-system-status>`; a click opens the sidebar panel. */
import { Widget } from '@lumino/widgets';
import { SYSTEM_STATUS_TAG, type SystemStatusElement } from '@mistudio/widgets/system-status';
import type { MonitorConnection } from './monitor-connection.js';

export class SystemStatusItem extends Widget {
  private readonly unsubscribe: () => void;

  constructor(connection: MonitorConnection, onClick: () => void) {
    super();
    this.addClass('jp-MiStudio-monitorStatus');
    const element = document.createElement(SYSTEM_STATUS_TAG) as SystemStatusElement;
    this.node.appendChild(element);
    this.node.addEventListener('click', onClick);
    this.unsubscribe = connection.subscribe((view) => {
      element.sample = view.sample;
      element.status = view.state.status;
      element.units = view.settings.units;
    });
  }

  override dispose(): void {
    this.unsubscribe();
    super.dispose();
  }
}
