// A Server-Sent Events parser for a fetch() body (fetch rather than EventSource, so that
// Last-Event-ID is sent from the very first request).  Pure: text in, events out.

export class SseParser {
  constructor() {
    this.buf = "";
    this.type = "message";
    this.data = [];
  }

  // Feed decoded text; returns the events it completed, as {type, data}.
  push(text) {
    this.buf += text;
    const events = [];
    let nl;
    while ((nl = this.buf.indexOf("\n")) >= 0) {
      let line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  line(line) {
    if (line === "") {
      const event = this.data.length ? { type: this.type, data: this.data.join("\n") } : null;
      this.type = "message";
      this.data = [];
      return event;
    }
    if (line.startsWith(":")) return null;  // a comment (the server's keep-alive)
    const c = line.indexOf(":");
    const field = c < 0 ? line : line.slice(0, c);
    const value = c < 0 ? "" : line.slice(c + 1).replace(/^ /, "");
    if (field === "event") this.type = value;
    else if (field === "data") this.data.push(value);
    return null;
  }
}
