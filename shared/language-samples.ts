// A first program per language runtime: output on both streams and nested trace spans, written
// in Loom's span record format (docs/span-format.md) by the few lines each language needs, or by
// loom-span in a shell script. The editor starts with them; the examples list has them too.

export const LANGUAGE_SAMPLES = {
  bash: `# Sort some rows, with nested trace spans (loom-span NAME -- COMMAND)
printf '3\\n1\\n2\\n' > /tmp/rows.txt

process() {
  loom-span sort -- sort -n -o /tmp/sorted.txt /tmp/rows.txt
  loom-span count -- wc -l /tmp/sorted.txt
}
export -f process

loom-span process rows=3 -- bash -c process
echo "sorted: $(tr '\\n' ' ' < /tmp/sorted.txt)"
echo "a warning on stderr" >&2
`,
  go: `// Sort some rows, with nested trace spans (Loom's span format, docs/span-format.md)
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"
)

var stack = []string{os.Getenv("LOOM_SPAN_ID")}

func span(name string, attributes map[string]any, work func()) {
	id := make([]byte, 8)
	rand.Read(id)
	spanID := hex.EncodeToString(id)
	parent := stack[len(stack)-1]
	stack = append(stack, spanID)
	start := time.Now()
	work()
	stack = stack[:len(stack)-1]
	record, _ := json.Marshal(map[string]any{
		"v": 1, "traceId": os.Getenv("LOOM_TRACE_ID"), "spanId": spanID, "parentSpanId": parent,
		"name": name, "attributes": attributes, "status": "ok",
		"startTimeUnixNano": strconv.FormatInt(start.UnixNano(), 10),
		"endTimeUnixNano":   strconv.FormatInt(time.Now().UnixNano(), 10),
	})
	if f, err := os.OpenFile(os.Getenv("LOOM_TRACE_FILE"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
		f.Write(append(record, '\\n'))
		f.Close()
	}
}

func main() {
	rows := []int{3, 1, 2}
	span("process", map[string]any{"rows": len(rows)}, func() {
		span("sort", map[string]any{}, func() { sort.Ints(rows) })
	})
	fmt.Println("sorted:", rows)
	fmt.Fprintln(os.Stderr, "a warning on stderr")
}
`,
  rust: `// Sort some rows, with nested trace spans (Loom's span format, docs/span-format.md)
use std::env;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::time::{SystemTime, UNIX_EPOCH};

struct Tracer {
    stack: Vec<String>,
}

fn now() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos()
}

fn new_id() -> String {
    let mut bytes = [0u8; 8];
    File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).unwrap();
    bytes.iter().map(|b| format!("{:02x}", b)).collect()
}

impl Tracer {
    fn span<T>(&mut self, name: &str, work: impl FnOnce(&mut Tracer) -> T) -> T {
        let id = new_id();
        let parent = self.stack.last().cloned().unwrap_or_default();
        self.stack.push(id.clone());
        let start = now();
        let result = work(self);
        self.stack.pop();
        let record = format!(
            "{{\\"v\\":1,\\"traceId\\":\\"{}\\",\\"spanId\\":\\"{}\\",\\"parentSpanId\\":\\"{}\\",\\"name\\":\\"{}\\",\\"startTimeUnixNano\\":\\"{}\\",\\"endTimeUnixNano\\":\\"{}\\",\\"status\\":\\"ok\\"}}\\n",
            env::var("LOOM_TRACE_ID").unwrap_or_default(), id, parent, name, start, now()
        );
        let file = env::var("LOOM_TRACE_FILE").unwrap_or_default();
        if let Ok(mut f) = OpenOptions::new().append(true).create(true).open(file) {
            let _ = f.write_all(record.as_bytes());
        }
        result
    }
}

fn main() {
    let mut tracer = Tracer { stack: vec![env::var("LOOM_SPAN_ID").unwrap_or_default()] };
    let mut rows = vec![3, 1, 2];
    tracer.span("process", |t| t.span("sort", |_| rows.sort()));
    println!("sorted: {:?}", rows);
    eprintln!("a warning on stderr");
}
`,
  ruby: `# Sort some rows, with nested trace spans (Loom's span format, docs/span-format.md)
require "json"
require "securerandom"

$spans = [ENV["LOOM_SPAN_ID"].to_s]

def span(name, attributes = {})
  id = SecureRandom.hex(8)
  parent = $spans.last
  $spans.push(id)
  start = Process.clock_gettime(Process::CLOCK_REALTIME, :nanosecond)
  result = yield
  $spans.pop
  record = {
    v: 1, traceId: ENV["LOOM_TRACE_ID"], spanId: id, parentSpanId: parent, name: name,
    startTimeUnixNano: start.to_s,
    endTimeUnixNano: Process.clock_gettime(Process::CLOCK_REALTIME, :nanosecond).to_s,
    attributes: attributes, status: "ok"
  }
  File.open(ENV.fetch("LOOM_TRACE_FILE", ""), "a") { |f| f.write(record.to_json + "\\n") } rescue nil
  result
end

rows = [3, 1, 2]
sorted = span("process", rows: rows.size) { span("sort") { rows.sort } }
puts "sorted: #{sorted.inspect}"
warn "a warning on stderr"
`,
  java: `// Sort some rows, with nested trace spans (Loom's span format, docs/span-format.md)
import java.io.FileWriter;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;

public class Main {
    static final Deque<String> stack = new ArrayDeque<>();
    static final SecureRandom random = new SecureRandom();

    static long nowNanos() {
        Instant t = Instant.now();
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    static void span(String name, Runnable work) {
        String id = String.format("%016x", random.nextLong());
        String parent = stack.isEmpty() ? "" : stack.peek();
        stack.push(id);
        long start = nowNanos();
        try {
            work.run();
        } finally {
            stack.pop();
            String record = String.format(
                "{\\"v\\":1,\\"traceId\\":\\"%s\\",\\"spanId\\":\\"%s\\",\\"parentSpanId\\":\\"%s\\",\\"name\\":\\"%s\\","
                    + "\\"startTimeUnixNano\\":\\"%d\\",\\"endTimeUnixNano\\":\\"%d\\",\\"status\\":\\"ok\\"}%n",
                System.getenv("LOOM_TRACE_ID"), id, parent, name, start, nowNanos());
            String file = System.getenv("LOOM_TRACE_FILE");
            if (file != null) {
                try (FileWriter out = new FileWriter(file, true)) {
                    out.write(record);
                } catch (Exception e) {
                    // no span file: the work still runs
                }
            }
        }
    }

    public static void main(String[] args) {
        String root = System.getenv("LOOM_SPAN_ID");
        if (root != null) stack.push(root);
        int[] rows = {3, 1, 2};
        span("process", () -> span("sort", () -> Arrays.sort(rows)));
        System.out.println("sorted: " + Arrays.toString(rows));
        System.err.println("a warning on stderr");
    }
}
`,
} as const;
