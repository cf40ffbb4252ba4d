"""A Jupyter notebook client that keeps the output evcxr sends after a cell has finished.

evcxr forwards the stdout and stderr of its child process (where cells run) through a thread of
its own, and stamps each line with the execute request it saw last. Nothing orders those lines
with the cell's "idle" status, so on a loaded machine a cell's last lines can arrive after the
cell is done: an error returned with `?` (which evcxr prints to stderr) or a panic message.
nbclient stops listening at "idle" and drops what comes later, so such a cell looked fine.

`EvcxrClient` keeps every stream line whose parent is a cell it ran and adds it to that cell, even
while a later cell runs. `collect_late_output` runs a marker cell that prints to both streams and
waits for both markers: each stream is one FIFO from the child to Jupyter, so once a marker
arrives, everything the earlier cells printed to that stream has arrived too.
"""

import time
from queue import Empty

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete
from nbclient.util import ensure_async, run_sync

MARKER = "hpr-nbexec: end of late output"
# A statement, so evcxr has no value to display; it prints the marker to both streams.
MARKER_CELL = f'println!("{MARKER}"); eprintln!("{MARKER}");'


class EvcxrClient(NotebookClient):
    """nbclient's client, plus the stream lines that reach a cell after it finished."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The cell each execute request belongs to, by the request's message id.
        self.cells_by_request = {}

    def keep_late_output(self, msg):
        """Adds a stream message to the cell whose request it names, if it names one."""
        cell = self.cells_by_request.get(msg["parent_header"].get("msg_id"))
        if cell is not None and msg["msg_type"] == "stream":
            cell.outputs.append(nbformat.v4.output_from_msg(msg))

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        # nbclient's loop, except that messages for an earlier cell are kept instead of dropped.
        self.cells_by_request[parent_msg_id] = cell
        while True:
            msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=None))
            if msg["parent_header"].get("msg_id") == parent_msg_id:
                try:
                    # Raises CellExecutionComplete at the cell's "idle".
                    self.process_message(msg, cell, cell_index)
                except CellExecutionComplete:
                    return
            else:
                self.keep_late_output(msg)

    async def async_collect_late_output(self, last_cell, timeout):
        """Waits until every line the cells printed has arrived; returns False on timeout.

        The marker cell's own request is mapped to `last_cell`: evcxr stamps a late line with the
        newest request, so the last cell's late lines may arrive under the marker's id.
        """
        msg_id = self.kc.execute(MARKER_CELL, store_history=False, allow_stdin=False)
        self.cells_by_request[msg_id] = last_cell
        streams_done = set()
        deadline = time.monotonic() + timeout
        while streams_done != {"stdout", "stderr"}:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=remaining))
            except Empty:
                return False
            from_marker = msg["parent_header"].get("msg_id") == msg_id
            if (
                from_marker
                and msg["msg_type"] == "stream"
                and MARKER in msg["content"].get("text", "")
            ):
                streams_done.add(msg["content"]["name"])
            elif from_marker and msg["msg_type"] == "error":
                return False  # the marker cell itself failed: it will print nothing
            else:
                self.keep_late_output(msg)
        return True

    collect_late_output = run_sync(async_collect_late_output)
