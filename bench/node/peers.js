// Counts SMS segments of every line (a JSON string) of a corpus file with the npm peers:
// Twilio's sms-segments-calculator (the reference) and split-sms. Prints one JSON object:
// per tool its seconds per run and, for Twilio, every count (for the equality check).
// Optional START END: Twilio counts only lines START..END-1 (the benchmark splits its slow
// pass across processes, one a core).
"use strict";
const fs = require("fs");
const { SegmentedMessage } = require("sms-segments-calculator");
const splitSms = require("split-sms");

const [corpusPath, twilioRuns, splitRuns, start, end] = process.argv.slice(2);
const texts = fs.readFileSync(corpusPath, "utf8").split("\n").filter(Boolean).map(JSON.parse);
const twilioTexts = texts.slice(Number(start ?? 0), end === undefined ? texts.length : Number(end));

function time(fn, runs) {
  const seconds = [];
  let out;
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    out = fn();
    seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { seconds, out };
}

const twilio = time(
  () => twilioTexts.map((t) => {
    const m = new SegmentedMessage(t, "auto");
    return [m.segmentsCount, m.encodingName];
  }),
  Number(twilioRuns),
);
const split = time(() => texts.map((t) => splitSms.split(t).parts.length), Number(splitRuns));
process.stdout.write(JSON.stringify({
  messages: texts.length,
  twilio_messages: twilioTexts.length,
  twilio: { seconds: twilio.seconds, counts: twilio.out },
  split_sms: { seconds: split.seconds, counts: split.out },
}));
