// Counts SMS segments of every line (a JSON string) of a corpus file with the npm peers.
//
// `node peers.js CORPUS START END`: Twilio's sms-segments-calculator (the reference) counts
// lines START..END-1 once (the benchmark splits its slow pass across processes, one a core)
// and prints one JSON object: its seconds and every count (for the equality check).
//
// `node peers.js CORPUS --serve`: split-sms, pass by pass, in turns with the other counters:
// each line read on stdin ("split-sms") runs one pass over the whole corpus and prints one
// JSON line, {"seconds": s, "passes": 1}.
"use strict";
const fs = require("fs");
const readline = require("readline");
const { SegmentedMessage } = require("sms-segments-calculator");
const splitSms = require("split-sms");

const [corpusPath, ...rest] = process.argv.slice(2);
const texts = fs.readFileSync(corpusPath, "utf8").split("\n").filter(Boolean).map(JSON.parse);

function timed(fn) {
  const t0 = process.hrtime.bigint();
  const out = fn();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, out };
}

if (rest[0] === "--serve") {
  const counters = { "split-sms": () => texts.map((t) => splitSms.split(t).parts.length) };
  readline.createInterface({ input: process.stdin }).on("line", (line) => {
    const counter = counters[line.trim()];
    if (!counter) {
      process.stdout.write(JSON.stringify({ error: `unknown counter ${line}` }) + "\n");
      return;
    }
    process.stdout.write(JSON.stringify({ seconds: timed(counter).seconds, passes: 1 }) + "\n");
  });
} else {
  const [start, end] = rest.map(Number);
  const twilioTexts = texts.slice(start, end);
  const twilio = timed(() => twilioTexts.map((t) => {
    const m = new SegmentedMessage(t, "auto");
    return [m.segmentsCount, m.encodingName];
  }));
  process.stdout.write(JSON.stringify({
    messages: twilioTexts.length,
    twilio: { seconds: twilio.seconds, counts: twilio.out },
  }));
}
