// gethelp, the helper's window. Talks to the local gethelp over one
// WebSocket: JSON events and binary screen records in, JSON commands out.
// The binary format is documented in wire.go.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const canvas = $('screen');
  const ctx = canvas.getContext('2d', { alpha: false });
  const cursorCanvas = $('cursor');
  const cursorCtx = cursorCanvas.getContext('2d');
  const viewport = $('viewport');
  const stage = $('stage');
  const transcript = $('transcript');
  const input = $('chat-input');
  const bandwidth = $('bandwidth');
  const monitorSel = $('monitor');
  const LEVELS = { low: 'Low', medium: 'Medium', high: 'High', full: 'Full quality' };

  const st = {
    ws: null,
    host: '',
    ended: false,
    paused: false,
    w: 0, h: 0, scale: 1,
    mode: 'fit',
    monitors: [], monitor: -1,
    ptr: { x: 0, y: 0, visible: false },
    shape: null, // {w, h, hotX, hotY}
    seq: 0,
    rtt: 0,
    retry: 0,
  };
  // Tests read the last drawn update here.
  window.gethelp = st;

  // ---- WebSocket ----

  function connect() {
    const t = new URLSearchParams(location.search).get('t');
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws' +
      (t ? '?t=' + encodeURIComponent(t) : '');
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    st.ws = ws;
    ws.onopen = () => { st.retry = 0; setLink(''); };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') {
        let m;
        try { m = JSON.parse(ev.data); } catch (e) { return; }
        onEvent(m);
      } else {
        onBinary(ev.data);
      }
    };
    ws.onclose = () => {
      if (st.ws !== ws) return;
      st.ws = null;
      if (st.ended) return;
      setLink('Lost contact with gethelp on this computer. Reconnecting…');
      st.retry = Math.min(st.retry + 1, 5);
      setTimeout(connect, 400 * st.retry);
    };
  }

  function sendCommand(cmd) {
    if (!st.ws || st.ws.readyState !== WebSocket.OPEN) {
      note('Not connected to gethelp on this computer; try again in a moment.', true);
      return false;
    }
    st.ws.send(JSON.stringify(cmd));
    return true;
  }

  // ---- Events ----

  function onEvent(m) {
    switch (m.type) {
      case 'hello':
        // A (re)connection: the events that follow replay the session.
        transcript.textContent = '';
        st.paused = false;
        st.ended = false;
        setHost(m.host || '');
        showEnded(null);
        showBanner();
        emptyNote();
        break;
      case 'connected':
        if (m.host) setHost(m.host);
        if (m.rtt_ms) st.rtt = m.rtt_ms;
        break;
      case 'chat':
        addChat(m);
        break;
      case 'bandwidth':
        if (m.level in LEVELS) bandwidth.value = m.level;
        break;
      case 'monitors':
        setMonitors(m.monitors || [], typeof m.monitor === 'number' ? m.monitor : -1);
        break;
      case 'sharing':
        st.paused = !!m.paused;
        showBanner();
        note(st.paused ? who() + ' paused screen sharing.' : who() + ' resumed screen sharing.');
        break;
      case 'snapshot':
        note('Snapshot saved to ' + m.path);
        break;
      case 'stats':
        showStats(m);
        break;
      case 'error':
        note(errorText(m), true);
        break;
      case 'disconnected':
        st.ended = true;
        showEnded(m.reason || 'the session ended');
        break;
    }
  }

  function who() { return st.host || 'The person'; }

  function setHost(name) {
    st.host = name;
    $('title').textContent = name ? 'Helping ' + name + ' · viewing their screen' : 'Connecting…';
    $('chat-title').textContent = name ? 'Chat with ' + name : 'Chat';
    document.title = name ? 'gethelp · Helping ' + name : 'gethelp · Helper';
    $('placeholder-text').textContent = 'Waiting for ' + (name ? name + '’s' : 'the person’s') + ' screen…';
  }

  function errorText(m) {
    const what = { chat: 'Your message was not sent', bandwidth: 'The bandwidth was not changed',
      monitor: 'The monitor was not changed' }[m.command] || 'That did not work';
    return what + ': ' + m.message;
  }

  // ---- Chat ----

  function timeText(iso) {
    const d = iso ? new Date(iso) : new Date();
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function emptyNote() {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'Messages you and ' + who() + ' write appear here.';
    transcript.appendChild(li);
  }

  function append(li) {
    const empty = transcript.querySelector('.empty');
    if (empty) empty.remove();
    const atEnd = transcript.scrollTop + transcript.clientHeight >= transcript.scrollHeight - 8;
    transcript.appendChild(li);
    if (atEnd || li.classList.contains('self')) transcript.scrollTop = transcript.scrollHeight;
  }

  function addChat(m) {
    const li = document.createElement('li');
    li.className = m.self ? 'self' : 'peer';
    const head = document.createElement('div');
    const name = document.createElement('span');
    name.className = 'who';
    name.textContent = m.self ? 'You' : (m.from || who());
    const time = document.createElement('time');
    time.dateTime = m.time || '';
    time.textContent = timeText(m.time);
    head.append(name, time);
    const text = document.createElement('div');
    text.className = 'text';
    text.textContent = m.text;
    li.append(head, text);
    append(li);
  }

  function note(text, isError) {
    const li = document.createElement('li');
    li.className = 'note' + (isError ? ' error' : '');
    li.textContent = text;
    append(li);
  }

  $('chat-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || st.ended) return;
    if (sendCommand({ type: 'chat', text: text })) input.value = '';
  });

  // ---- Controls ----

  $('disconnect').addEventListener('click', () => {
    if (st.ended) return;
    sendCommand({ type: 'disconnect' });
  });

  bandwidth.addEventListener('change', () => {
    sendCommand({ type: 'bandwidth', level: bandwidth.value });
  });

  monitorSel.addEventListener('change', () => {
    sendCommand({ type: 'monitor', monitor: parseInt(monitorSel.value, 10) });
  });

  function setMonitors(mons, current) {
    st.monitors = mons;
    st.monitor = current;
    monitorSel.textContent = '';
    const all = new Option('All monitors', '-1');
    monitorSel.add(all);
    mons.forEach((m, i) => {
      const label = 'Monitor ' + (i + 1) + (m.name ? ' (' + m.name + ')' : '') + ' · ' + m.w + '×' + m.h +
        (m.primary ? ' · main' : '');
      monitorSel.add(new Option(label, String(i)));
    });
    monitorSel.value = String(current);
    monitorSel.disabled = st.ended || mons.length < 2;
    drawPointer();
  }

  function setMode(mode) {
    st.mode = mode;
    $('fit').setAttribute('aria-pressed', String(mode === 'fit'));
    $('actual').setAttribute('aria-pressed', String(mode === 'actual'));
    viewport.classList.toggle('actual', mode === 'actual');
    layout();
  }
  $('fit').addEventListener('click', () => setMode('fit'));
  $('actual').addEventListener('click', () => setMode('actual'));

  function showBanner() {
    const b = $('banner');
    if (st.linkText) {
      b.textContent = st.linkText;
      b.className = 'banner lost';
      b.hidden = false;
    } else if (st.paused && !st.ended) {
      b.textContent = who() + ' paused screen sharing. You see the last picture until they resume.';
      b.className = 'banner';
      b.hidden = false;
    } else {
      b.hidden = true;
    }
  }

  function setLink(text) {
    st.linkText = text;
    $('stat-link').textContent = text ? 'Reconnecting to gethelp…' : '';
    if (text) setQuality('off', 'No contact');
    showBanner();
  }

  function showEnded(reason) {
    const box = $('ended');
    const controls = [input, $('chat-send'), bandwidth, $('disconnect'), $('fit'), $('actual')];
    if (reason === null) {
      box.hidden = true;
      controls.forEach((c) => { c.disabled = false; });
      monitorSel.disabled = st.monitors.length < 2;
      return;
    }
    $('ended-title').textContent = 'Session ended';
    $('ended-reason').textContent = 'Disconnected: ' + reason.replace(/\.$/, '') + '.';
    ['stat-latency', 'stat-rate', 'stat-fps'].forEach((id) => { $(id).textContent = ''; });
    box.hidden = false;
    controls.forEach((c) => { c.disabled = true; });
    monitorSel.disabled = true;
    $('title').textContent = (st.host ? 'Helping ' + st.host + ' · ' : '') + 'disconnected';
    setQuality('off', 'Disconnected');
    showBanner();
  }

  // ---- Status bar ----

  function setQuality(cls, text) {
    $('quality').className = 'quality ' + cls;
    $('quality-text').textContent = text;
  }

  function rateText(bps) {
    if (bps >= 1e6) return (bps / 1e6).toFixed(1) + ' MB/s';
    if (bps >= 1e3) return (bps / 1e3).toFixed(0) + ' KB/s';
    return Math.round(bps) + ' B/s';
  }

  function showStats(m) {
    if (st.ended) return;
    if (m.rtt_ms) st.rtt = m.rtt_ms;
    const lat = m.latency_ms || 0;
    const worst = Math.max(st.rtt, lat);
    if (!st.ended && !st.linkText) {
      if (worst < 150) setQuality('good', 'Good connection');
      else if (worst < 400) setQuality('fair', 'Fair connection');
      else setQuality('poor', 'Poor connection');
    }
    $('stat-rtt').textContent = st.rtt ? 'RTT ' + st.rtt.toFixed(st.rtt < 10 ? 1 : 0) + ' ms' : '';
    $('stat-latency').textContent = lat ? 'Latency ' + lat.toFixed(0) + ' ms' : '';
    $('stat-rate').textContent = rateText(m.bytes_per_sec || 0);
    $('stat-fps').textContent = (m.updates_per_sec || 0).toFixed(0) + ' updates/s';
  }

  // ---- Screen ----

  function onBinary(buf) {
    const dv = new DataView(buf);
    if (dv.byteLength < 1 || dv.getUint8(0) !== 1) return; // unknown version
    let o = 1;
    const u = () => { const v = dv.getUint32(o, true); o += 4; return v; };
    const i = () => { const v = dv.getInt32(o, true); o += 4; return v; };
    while (o < dv.byteLength) {
      const kind = dv.getUint8(o++);
      if (kind === 1) { // resize
        const w = u(), h = u();
        resize(w, h);
      } else if (kind === 2) { // copy
        const sx = u(), sy = u(), w = u(), h = u(), dx = u(), dy = u();
        ctx.drawImage(canvas, sx, sy, w, h, dx, dy, w, h);
      } else if (kind === 3) { // pixels
        const x = u(), y = u(), w = u(), h = u();
        const n = w * h * 4;
        ctx.putImageData(new ImageData(new Uint8ClampedArray(buf, o, n), w, h), x, y);
        o += n;
      } else if (kind === 4) { // pointer
        const x = i(), y = i();
        const visible = dv.getUint8(o++) !== 0;
        st.ptr = { x: x, y: y, visible: visible };
        drawPointer();
      } else if (kind === 5) { // cursor shape
        u(); // serial
        const w = u(), h = u(), hx = u(), hy = u();
        const n = w * h * 4;
        cursorCanvas.width = w;
        cursorCanvas.height = h;
        cursorCtx.putImageData(new ImageData(new Uint8ClampedArray(buf.slice(o, o + n)), w, h), 0, 0);
        o += n;
        st.shape = { w: w, h: h, hotX: hx, hotY: hy };
        drawPointer();
      } else if (kind === 6) { // sync
        st.seq = u();
      } else {
        return; // unknown record: ignore the rest
      }
    }
  }

  function resize(w, h) {
    st.w = w;
    st.h = h;
    canvas.width = w;
    canvas.height = h;
    ctx.imageSmoothingEnabled = false;
    stage.hidden = false;
    $('placeholder').hidden = true;
    $('stat-size').textContent = w + '×' + h;
    layout();
  }

  function layout() {
    if (!st.w) return;
    let scale = 1;
    if (st.mode === 'fit') {
      const pad = 16;
      const aw = Math.max(50, viewport.clientWidth - 2 * pad);
      const ah = Math.max(50, viewport.clientHeight - 2 * pad);
      scale = Math.min(aw / st.w, ah / st.h);
    }
    st.scale = scale;
    const cw = Math.round(st.w * scale), ch = Math.round(st.h * scale);
    canvas.style.width = cw + 'px';
    canvas.style.height = ch + 'px';
    if (st.mode === 'fit') {
      stage.style.left = Math.round((viewport.clientWidth - cw) / 2) + 'px';
      stage.style.top = Math.round((viewport.clientHeight - ch) / 2) + 'px';
    } else {
      stage.style.left = '';
      stage.style.top = '';
    }
    drawPointer();
  }

  // A small arrow for when the host has not sent a shape.
  function defaultShape() {
    cursorCanvas.width = 12;
    cursorCanvas.height = 19;
    cursorCtx.fillStyle = '#fff';
    cursorCtx.strokeStyle = '#000';
    cursorCtx.beginPath();
    cursorCtx.moveTo(0.5, 0.5); cursorCtx.lineTo(0.5, 16); cursorCtx.lineTo(4.5, 12.5);
    cursorCtx.lineTo(7.5, 18.5); cursorCtx.lineTo(9.5, 17.5); cursorCtx.lineTo(6.5, 11.5);
    cursorCtx.lineTo(11.5, 11.5); cursorCtx.closePath();
    cursorCtx.fill(); cursorCtx.stroke();
    st.shape = { w: 12, h: 19, hotX: 0, hotY: 0 };
  }

  function drawPointer() {
    let x = st.ptr.x, y = st.ptr.y;
    if (st.monitor >= 0 && st.monitors[st.monitor]) {
      x -= st.monitors[st.monitor].x;
      y -= st.monitors[st.monitor].y;
    }
    const inside = x >= 0 && y >= 0 && x < st.w && y < st.h;
    if (!st.ptr.visible || !st.w || !inside) {
      cursorCanvas.hidden = true;
      return;
    }
    if (!st.shape) defaultShape();
    // The pointer shrinks with the picture, but not below half size.
    const s = st.scale, cs = Math.max(s, 0.5);
    cursorCanvas.style.left = (x * s - st.shape.hotX * cs) + 'px';
    cursorCanvas.style.top = (y * s - st.shape.hotY * cs) + 'px';
    cursorCanvas.style.width = (st.shape.w * cs) + 'px';
    cursorCanvas.style.height = (st.shape.h * cs) + 'px';
    cursorCanvas.hidden = false;
  }

  new ResizeObserver(layout).observe(viewport);
  cursorCanvas.hidden = true;
  emptyNote();
  connect();
})();
