/**
 * One starter in dir-lock.test.ts's races: a process that opens a data directory's log when told to, so many
 * of them can try at the same moment. Reads lines on stdin — `open <dir>`: answers `won` or `refused: <why>`;
 * `close`: closes what it holds and answers `closed` — and prints `ready` once loaded.
 */
import { createInterface } from "node:readline";
import { silentLog } from "../../src/core/log.js";
import { RecordLog } from "../../src/store/record-log.js";

let held: RecordLog | undefined;
const say = (line: string): void => void process.stdout.write(`${line}\n`);
say("ready");
for await (const line of createInterface({ input: process.stdin })) {
  const [command, dir] = line.split(" ");
  if (command === "open" && dir !== undefined) {
    try {
      held = await RecordLog.open(dir, silentLog);
      say("won");
    } catch (err) {
      say(`refused: ${(err as Error).message.replaceAll("\n", " ")}`);
    }
  } else if (command === "close") {
    await held?.close();
    held = undefined;
    say("closed");
  }
}
