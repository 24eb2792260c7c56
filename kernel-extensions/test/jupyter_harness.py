#!/usr/bin/env python3
"""Headless Jupyter client that drives the `mistudio` kernel for kernel-extensions/test/*.slow.test.ts.

    jupyter_harness.py <scenario> --workdir DIR --stderr FILE

Starts the kernel through jupyter_client's KernelManager (kernel spec found on JUPYTER_PATH, the
kernel's stderr written to FILE), runs one scenario and prints one JSON object of observed facts on
stdout; the vitest test makes the assertions. jupyter_client's Session validates the signature of
every message it receives; a raw SUB socket on iopub additionally re-checks every frame list with
plain hmac, independently of both jupyter_client and the kernel.
"""
import argparse
import base64
import hashlib
import hmac
import json
import struct
import sys
import time

import zmq
from jupyter_client.manager import KernelManager

DELIM = b"<IDS|MSG>"


class Kernel:
    def __init__(self, workdir, stderr_path):
        self.stderr_file = open(stderr_path, "w")
        self.km = KernelManager(kernel_name="mistudio")
        self.km.start_kernel(cwd=workdir, stderr=self.stderr_file)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)
        self.log = []  # every iopub message, in arrival order
        self.shell = []  # every shell reply
        self.raw = zmq.Context.instance().socket(zmq.SUB)
        self.raw.setsockopt(zmq.SUBSCRIBE, b"")
        self.raw.connect(f"{self.km.transport}://{self.km.ip}:{self.km.iopub_port}")
        self.raw_frames = []
        # Let the raw subscriber join before anything is published (ZeroMQ slow joiner).
        deadline = time.time() + 10
        while not self.raw_frames and time.time() < deadline:
            self.kc.kernel_info()
            time.sleep(0.2)
            self.drain_raw()

    def drain_raw(self):
        while self.raw.poll(0):
            self.raw_frames.append(self.raw.recv_multipart())

    def pump(self, done, timeout=60):
        """Reads iopub into self.log until done(self.log) is true."""
        deadline = time.time() + timeout
        while not done(self.log):
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("timed out waiting on iopub")
            try:
                self.log.append(self.kc.get_iopub_msg(timeout=min(left, 1)))
            except Exception:  # queue.Empty
                pass
            self.drain_raw()

    def drain(self, seconds):
        """Reads everything iopub delivers during `seconds`."""
        deadline = time.time() + seconds
        while (left := deadline - time.time()) > 0:
            try:
                self.log.append(self.kc.get_iopub_msg(timeout=min(left, 0.2)))
            except Exception:  # queue.Empty
                pass
        self.drain_raw()

    def idle_seen(self, msg_id):
        return lambda log: any(
            m["msg_type"] == "status"
            and m["content"]["execution_state"] == "idle"
            and m["parent_header"].get("msg_id") == msg_id
            for m in log
        )

    def reply(self, msg_id, timeout=60):
        deadline = time.time() + timeout
        while True:
            for m in self.shell:
                if m["parent_header"].get("msg_id") == msg_id:
                    return m
            left = deadline - time.time()
            if left <= 0:
                return None
            try:
                self.shell.append(self.kc.get_shell_msg(timeout=min(left, 1)))
            except Exception:
                pass

    def execute(self, code, timeout=120):
        msg_id = self.kc.execute(code)
        reply = self.reply(msg_id, timeout)
        self.pump(self.idle_seen(msg_id), timeout)
        return msg_id, reply["content"] if reply else None

    def of(self, msg_id, msg_type=None):
        return [
            m
            for m in self.log
            if m["parent_header"].get("msg_id") == msg_id and (msg_type is None or m["msg_type"] == msg_type)
        ]

    def stdout(self, msg_id):
        return "".join(m["content"]["text"] for m in self.of(msg_id, "stream") if m["content"]["name"] == "stdout")

    def stderr(self, msg_id):
        return "".join(m["content"]["text"] for m in self.of(msg_id, "stream") if m["content"]["name"] == "stderr")

    def send(self, msg_type, content, buffers=None):
        msg = self.kc.session.msg(msg_type, content)
        self.kc.session.send(self.kc.shell_channel.socket, msg, buffers=buffers)
        return msg["header"]["msg_id"]

    def send_raw(self, frames):
        self.kc.shell_channel.socket.send_multipart(frames)

    def statuses(self, msg_id):
        return [m["content"]["execution_state"] for m in self.of(msg_id, "status")]

    def index(self, predicate):
        for i, m in enumerate(self.log):
            if predicate(m):
                return i
        return -1

    def verify_raw_signatures(self):
        """Independent check of kernel → client signing: hmac over exactly the four dict frames."""
        time.sleep(0.3)
        self.drain_raw()
        key = self.kc.session.key
        checked = with_buffers = 0
        bad = []
        for frames in self.raw_frames:
            at = frames.index(DELIM)
            signature, dicts, buffers = frames[at + 1], frames[at + 2 : at + 6], frames[at + 6 :]
            digest = hmac.new(key, b"".join(dicts), hashlib.sha256).hexdigest().encode()
            checked += 1
            with_buffers += 1 if buffers else 0
            if not hmac.compare_digest(digest, signature):
                bad.append(json.loads(dicts[0])["msg_type"])
        return {"checked": checked, "with_buffers": with_buffers, "bad": bad, "key_length": len(key)}

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)
        self.stderr_file.close()


def b64(data):
    return base64.b64encode(bytes(data)).decode()


def comm_facts(m):
    return {"msg_type": m["msg_type"], "content": m["content"], "metadata": m["metadata"],
            "buffers": [b64(b) for b in m.get("buffers", [])],
            "parent_msg_id": m["parent_header"].get("msg_id")}


CELL_OPEN = """
import { widget } from '@mistudio/kernel';
const w = widget('ms-training-monitor', { status: 'running', step: 0, totalSteps: 60, metrics: [] },
  { buffers: { weights: new Float32Array([1.5, 2.5]) } });
const got: unknown[] = [];
w.on('ping', (payload, buffers) => {
  got.push(payload);
  w.send({ pong: payload, bytes: buffers.map((b) => b.byteLength) });
});
"""

CELL_LOOP = """
console.log('loop-started');
let steps = 0;
const has = () => w.props.mark === 'from-test' && got.length > 0 && w.buffers.tokens !== undefined;
while (!has() && steps < 3000) {
  steps++;
  await new Promise((r) => setTimeout(r, 5));
}
const t = w.buffers.tokens;
console.log(JSON.stringify({
  seen: has(), steps, mark: w.props.mark, got: got,  // tslab 1.0.22 does not rewrite shorthand properties that name an earlier cell's variable
  tokens: t ? Array.from(new Int32Array(t.buffer, t.byteOffset, t.byteLength / 4)) : null,
}));
w.set({ step: 5 });
w.append('metrics', [{ step: 5, loss: 0.25, l0: 12, deadLatents: 1 }]);
"""


def scenario_comms(k):
    facts = {}
    open_id, facts["open_reply"] = k.execute(CELL_OPEN)
    opens = k.of(open_id, "comm_open")
    facts["comm_open"] = [comm_facts(m) for m in opens]
    facts["display"] = [m["content"] for m in k.of(open_id, "display_data")]
    model_id = opens[0]["content"]["comm_id"] if opens else None

    loop_id = k.kc.execute(CELL_LOOP)
    k.pump(lambda log: "loop-started" in k.stdout(loop_id), 60)
    sent = {
        "update_props": k.send("comm_msg", {"comm_id": model_id, "data": {
            "method": "update",
            "state": {"props": {"status": "running", "step": 0, "totalSteps": 60, "metrics": [], "mark": "from-test"}},
            "buffer_paths": []}}),
        "update_buffer": k.send("comm_msg", {"comm_id": model_id, "data": {
            "method": "update", "state": {"buffers": {}}, "buffer_paths": [["buffers", "tokens"]]}},
            buffers=[struct.pack("<3i", 7, 8, 9)]),
        "custom": k.send("comm_msg", {"comm_id": model_id, "data": {
            "method": "custom", "content": {"event": "ping", "payload": {"n": 1}}}},
            buffers=[b"\x01\x02\x03"]),
        "request_state": k.send("comm_msg", {"comm_id": model_id, "data": {"method": "request_state"}}),
    }
    facts["sent"] = sent
    loop_reply = k.reply(loop_id, 120)
    k.pump(k.idle_seen(loop_id), 60)
    facts["loop_reply"] = loop_reply["content"] if loop_reply else None
    facts["loop_stdout"] = k.stdout(loop_id)
    facts["loop_stderr"] = k.stderr(loop_id)
    loop_idle_at = k.index(lambda m: m["parent_header"].get("msg_id") == loop_id
                           and m["msg_type"] == "status" and m["content"]["execution_state"] == "idle")
    facts["replies"] = {}
    for name, msg_id in sent.items():
        msgs = k.of(msg_id, "comm_msg")
        facts["replies"][name] = {
            "statuses": k.statuses(msg_id),
            "comm_msgs": [comm_facts(m) for m in msgs],
            "before_loop_idle": all(k.log.index(m) < loop_idle_at for m in msgs) if msgs else None,
        }
    facts["loop_comm_msgs"] = [comm_facts(m) for m in k.of(loop_id, "comm_msg")]
    facts["loop_display_updates"] = [m["content"] for m in k.of(loop_id, "update_display_data")]

    infos = {}
    for name, target in [("widget", "jupyter.widget"), ("other", "no.such.target"), ("all", None)]:
        content = {} if target is None else {"target_name": target}
        msg_id = k.send("comm_info_request", content)
        reply = k.reply(msg_id, 30)
        infos[name] = {"msg_type": reply["msg_type"], "content": reply["content"]} if reply else None
    facts["comm_info"] = infos
    facts["model_id"] = model_id

    # client → kernel: a message whose signature is wrong must be dropped unanswered.
    msg = k.kc.session.msg("kernel_info_request", {})
    frames = k.kc.session.serialize(msg)
    at = frames.index(DELIM)
    frames[at + 1] = b"0" * len(frames[at + 1])
    k.send_raw(frames)
    facts["bad_signature_reply"] = k.reply(msg["header"]["msg_id"], 3) is not None
    good = k.kc.kernel_info()
    facts["good_after_bad"] = k.reply(good, 30) is not None
    facts["signatures"] = k.verify_raw_signatures()
    return facts


def scenario_flood(k):
    facts = {}
    lines_id, facts["lines_reply"] = k.execute("for (let i = 0; i < 5000; i++) console.log(`line ${i}`);")
    lines = k.stdout(lines_id).splitlines()
    facts["line_count"] = len(lines)
    facts["lines_in_order"] = lines == [f"line {i}" for i in range(5000)]
    facts["lines_statuses"] = k.statuses(lines_id)
    displays_id, facts["displays_reply"] = k.execute(
        "import { display } from '@mistudio/kernel';\n"
        "for (let i = 0; i < 3000; i++) display({ 'text/plain': `d${i}` }, { id: `flood-${i}` });")
    texts = [m["content"]["data"]["text/plain"] for m in k.of(displays_id, "display_data")]
    facts["display_count"] = len(texts)
    facts["displays_in_order"] = texts == [f"d{i}" for i in range(3000)]
    facts["display_ids_ok"] = all(
        m["content"]["transient"]["display_id"] == f"flood-{i}" for i, m in enumerate(k.of(displays_id, "display_data")))
    facts["displays_statuses"] = k.statuses(displays_id)
    after_id, facts["after_reply"] = k.execute("console.log('still here')")
    facts["after_stdout"] = k.stdout(after_id)
    return facts


def scenario_throttle(k):
    facts = {}
    open_id, _ = k.execute(
        "import { widget, display, update } from '@mistudio/kernel';\n"
        "const w = widget('ms-training-monitor', { status: 'running', step: 0, totalSteps: 1000, metrics: [] });")
    display_id = k.of(open_id, "display_data")[0]["content"]["transient"]["display_id"]
    sync_id, facts["sync_reply"] = k.execute("for (let step = 1; step <= 1000; step++) w.set({ step });")
    facts["sync_updates"] = len([m for m in k.of(sync_id, "comm_msg") if m["content"]["data"].get("method") == "update"])
    sync_displays = k.of(sync_id, "update_display_data")
    facts["sync_display_updates"] = len(sync_displays)
    facts["sync_last_display"] = sync_displays[-1]["content"] if sync_displays else None
    async_id, facts["async_reply"] = k.execute(
        "const started = Date.now();\n"
        "for (let step = 1; step <= 40; step++) { w.set({ step }); await new Promise((r) => setTimeout(r, 25)); }\n"
        "console.log(Date.now() - started);")
    facts["async_ms"] = float(k.stdout(async_id).strip() or "nan")
    facts["async_display_updates"] = len(k.of(async_id, "update_display_data"))
    close_id, facts["close_reply"] = k.execute("w.set({ step: 41, status: 'finished' }); w.close();")
    facts["close_msgs"] = [m["msg_type"] for m in k.of(close_id) if m["msg_type"] not in ("status", "execute_input")]
    facts["close_last_display"] = [m["content"] for m in k.of(close_id, "update_display_data")]
    facts["display_id"] = display_id
    plain_id, facts["plain_reply"] = k.execute(
        "const h = display({ 'text/html': '<b>one</b>', 'text/plain': 'one' }, { id: 'plain-1' });\n"
        "update('plain-1', { 'text/plain': 'two' });\n"
        "h.update({ 'image/png': new Uint8Array([137, 80, 78, 71]) });")
    facts["plain_msgs"] = [(m["msg_type"], m["content"]) for m in k.of(plain_id)
                           if m["msg_type"] in ("display_data", "update_display_data")]
    after_id, facts["after_close_reply"] = k.execute("w.set({ step: 42 });")
    facts["after_close_stderr"] = k.stderr(after_id)
    return facts


CELL_TRAINING = """
import { widget } from '@mistudio/kernel';
const monitor = widget('ms-training-monitor', { title: 'fake run', status: 'running', step: 0, totalSteps: 60, metrics: [] });
let paused = false;
let stopped = false;
monitor.on('pause', () => { paused = true; monitor.set({ status: 'paused' }); });
monitor.on('resume', () => { paused = false; monitor.set({ status: 'running' }); });
monitor.on('stop', () => { stopped = true; });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let step = 0;
while (step < 60 && !stopped) {
  if (paused) { await sleep(20); continue; }
  step++;
  monitor.append('metrics', [{ step, loss: 1 / step, l0: 10, deadLatents: 0 }]);
  monitor.set({ step });
  await sleep(40);
}
monitor.set({ status: stopped ? 'stopped' : 'finished' });
console.log(`ended at step ${step}`);
"""


def scenario_training(k):
    """The 60-step fake training loop of the browser test, with pause/resume/stop sent as the
    front-end view sends `ms-action` events."""
    msg_id = k.kc.execute(CELL_TRAINING)

    def steps():
        return [m["content"]["data"]["state"]["props"]["step"] for m in k.of(msg_id, "comm_msg")
                if m["content"]["data"].get("method") == "update"]

    def model_id():
        opens = k.of(msg_id, "comm_open")
        return opens[0]["content"]["comm_id"] if opens else None

    def action(name):
        return k.send("comm_msg", {"comm_id": model_id(), "data": {
            "method": "custom", "content": {"event": name, "payload": {}}}})

    k.pump(lambda log: max(steps() or [0]) >= 5, 60)
    pause_id = action("pause")
    k.pump(k.idle_seen(pause_id), 30)
    k.drain(0.3)  # messages of a step that ran before the pause may still be on the way
    at_pause = max(steps())
    k.drain(0.8)
    after_wait = max(steps())
    paused_status = [m["content"]["data"]["state"]["props"]["status"] for m in k.of(pause_id, "comm_msg")]
    resume_id = action("resume")
    k.pump(lambda log: max(steps()) >= after_wait + 3, 30)
    after_resume = max(steps())
    stop_id = action("stop")
    reply = k.reply(msg_id, 60)
    k.pump(k.idle_seen(msg_id), 30)
    return {
        "at_pause": at_pause, "after_wait": after_wait, "paused_status": paused_status,
        "after_resume": after_resume, "final_step": max(steps()), "stdout": k.stdout(msg_id),
        "reply": reply["content"] if reply else None,
        "resume_status": [m["content"]["data"]["state"]["props"]["status"] for m in k.of(resume_id, "comm_msg")],
        "stop_statuses": k.statuses(stop_id),
        "appends": len([m for m in k.of(msg_id, "comm_msg") if m["content"]["data"].get("method") == "custom"]),
    }


def scenario_robustness(k):
    facts = {"cases": {}}
    open_id, _ = k.execute(
        "import { widget } from '@mistudio/kernel';\n"
        "const w = widget('ms-training-monitor', { status: 'running', step: 0, totalSteps: 10, metrics: [] });\n"
        "const gone = widget('ms-training-monitor', { status: 'running', step: 0, totalSteps: 10, metrics: [] });\n"
        "w.on('explode', () => { throw new Error('listener exploded'); });")
    ids = [m["content"]["comm_id"] for m in k.of(open_id, "comm_open")]
    model_id, gone_id = ids[0], ids[1]
    k.execute("gone.close();")

    def case(name, send):
        mark = len(open(k.stderr_file.name).read())
        msg_id = send()
        try:
            k.pump(k.idle_seen(msg_id), 15)
        except TimeoutError:
            pass
        time.sleep(0.1)
        facts["cases"][name] = {
            "statuses": k.statuses(msg_id),
            "replies": [comm_facts(m) for m in k.of(msg_id) if m["msg_type"].startswith("comm_")],
            "log": open(k.stderr_file.name).read()[mark:],
        }

    case("invalid_target", lambda: k.send("comm_open", {"comm_id": "c-invalid", "target_name": "no.such.target", "data": {}}))

    def malformed_json():
        msg = k.kc.session.msg("comm_msg", {})
        parts = [k.kc.session.pack(msg["header"]), b"{}", b"{}", b'{"comm_id": "' + model_id.encode() + b'", "data": {']
        signature = k.kc.session.sign(parts)
        k.send_raw([DELIM, signature, *parts])
        return msg["header"]["msg_id"]

    case("malformed_json", malformed_json)
    case("data_not_object", lambda: k.send("comm_msg", {"comm_id": model_id, "data": "not an object"}))
    case("bad_state", lambda: k.send("comm_msg", {"comm_id": model_id, "data": {"method": "update", "state": 5}}))
    case("buffer_mismatch", lambda: k.send("comm_msg", {"comm_id": model_id, "data": {
        "method": "update", "state": {}, "buffer_paths": [["buffers", "x"]]}}))
    case("unknown_method", lambda: k.send("comm_msg", {"comm_id": model_id, "data": {"method": "frobnicate"}}))
    case("unknown_comm", lambda: k.send("comm_msg", {"comm_id": "no-such-widget", "data": {"method": "request_state"}}))
    case("closed_comm", lambda: k.send("comm_msg", {"comm_id": gone_id, "data": {"method": "request_state"}}))
    case("listener_throws", lambda: k.send("comm_msg", {"comm_id": model_id, "data": {
        "method": "custom", "content": {"event": "explode", "payload": {}}}}))
    case("frontend_widget_open", lambda: k.send("comm_open", {"comm_id": "c-fe", "target_name": "jupyter.widget", "data": {}}))

    after_id, facts["after_reply"] = k.execute("console.log('alive', 6 * 7, w.props.step)")
    facts["after_stdout"] = k.stdout(after_id)
    facts["alive"] = k.km.is_alive()
    return facts


def scenario_shorthand(k):
    # Shorthand properties naming earlier cells' variables, in literals and destructuring assignments.
    k.execute("const loss = 0.25;\nlet step = 3;\nconst fallback = 9;")
    msg_id, reply = k.execute(
        "const o = { loss, step, nested: { loss } };\n"
        "let a = 0; let b = 0;\n"
        "({ loss: a, step: b } = { loss, step });\n"
        "const { x = fallback } = {} as { x?: number };\n"
        "console.log(JSON.stringify(o), a, b, x);"
    )
    return {"status": reply["status"], "stdout": k.stdout(msg_id), "stderr": k.stderr(msg_id)}


def scenario_notebook(workdir, stderr_path):
    """nbclient runs a whole notebook on the kernel, as `jupyter nbconvert --execute` would."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import { widget } from '@mistudio/kernel';\n"
            "const w = widget('ms-training-monitor', { title: 'nbclient run', status: 'running', step: 0, totalSteps: 1000, metrics: [] },\n"
            "  { buffers: { weights: new Float32Array([1.5, 2.5]) } });"),
        nbformat.v4.new_code_cell(
            "for (let step = 1; step <= 1000; step++) {\n"
            "  w.set({ step });\n"
            "  if (step % 100 === 0) w.append('metrics', [{ step, loss: 1 / step, l0: 10, deadLatents: 0 }]);\n"
            "}\n"
            "w.set({ status: 'finished' });"),
        nbformat.v4.new_code_cell("console.log('done', w.props.step)"),
    ]
    client = NotebookClient(nb, kernel_name="mistudio", timeout=120, resources={"metadata": {"path": workdir}})
    with open(stderr_path, "w") as stderr:
        client.execute(stderr=stderr)
    first = nb.cells[0].outputs
    return {
        "outputs": [[o.get("output_type"), sorted(o.get("data", {}).keys()) if "data" in o else o.get("text")]
                    for cell in nb.cells for o in cell.outputs],
        "first_output": first[0] if first else None,
        "widget_state": nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json"),
        "last_stdout": "".join(o.get("text", "") for o in nb.cells[2].outputs),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--stderr", required=True)
    args = parser.parse_args()
    if args.scenario == "notebook":
        facts = scenario_notebook(args.workdir, args.stderr)
    else:
        run = {"comms": scenario_comms, "flood": scenario_flood, "throttle": scenario_throttle,
               "robustness": scenario_robustness, "training": scenario_training,
               "shorthand": scenario_shorthand}[args.scenario]
        kernel = Kernel(args.workdir, args.stderr)
        try:
            facts = run(kernel)
            facts["kernel_alive_at_end"] = kernel.km.is_alive()
        finally:
            kernel.close()
    json.dump(facts, sys.stdout, default=str)


if __name__ == "__main__":
    main()
