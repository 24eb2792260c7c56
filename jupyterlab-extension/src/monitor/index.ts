/**
 * The system monitor in JupyterLab: a right-sidebar panel and a compact status-bar item, both fed
 * by the metrics service that jupyter-server-proxy starts (jupyter_config.json), so they work with
 * no kernel running. ILabShell is not required (Notebook 7 has none): the panel goes in with
 * `app.shell.add(…, 'right')`; the status bar is optional.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ILayoutRestorer } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IStatusBar } from '@jupyterlab/statusbar';
import { LabIcon } from '@jupyterlab/ui-components';
import { MonitorConnection } from './monitor-connection.js';
import { MONITOR_PANEL_ID, SystemMonitorPanel } from './monitor-panel.js';
import { SystemStatusItem } from './monitor-status-item.js';

const PLUGIN_ID = '@mistudio/jupyterlab-extension:system-monitor';
const TOGGLE_COMMAND = 'mistudio:show-system-monitor';

const monitorIcon = new LabIcon({
  name: 'mistudio:system-monitor',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161"><path d="M3 4h18a1 1 0 0 1 1 1v11a1 1 0 0 1-1 1h-7v2h3v2H7v-2h3v-2H3a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1zm1 2v9h16V6H4zm2 7 3-4 2 2 3-4 3 6H6z"/></g></svg>',
});

const monitorPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'miStudio system monitor: sidebar panel and status-bar GPU item.',
  autoStart: true,
  optional: [IStatusBar, ILayoutRestorer, ICommandPalette],
  activate: (app: JupyterFrontEnd, statusBar: IStatusBar | null, restorer: ILayoutRestorer | null, palette: ICommandPalette | null) => {
    const connection = new MonitorConnection();
    const panel = new SystemMonitorPanel(connection);
    panel.title.icon = monitorIcon;
    app.shell.add(panel, 'right', { rank: 900 });
    restorer?.add(panel, MONITOR_PANEL_ID);

    app.commands.addCommand(TOGGLE_COMMAND, {
      label: 'Show System Monitor',
      caption: 'Open the miStudio system monitor in the sidebar',
      execute: () => app.shell.activateById(MONITOR_PANEL_ID),
    });
    palette?.addItem({ command: TOGGLE_COMMAND, category: 'miStudio' });

    if (statusBar) {
      const item = new SystemStatusItem(connection, () => app.shell.activateById(MONITOR_PANEL_ID));
      statusBar.registerStatusItem(`${PLUGIN_ID}:status`, { item, align: 'left', rank: 900 });
    }
    connection.start();
  },
};

export const monitorPlugins: JupyterFrontEndPlugin<unknown>[] = [monitorPlugin];
