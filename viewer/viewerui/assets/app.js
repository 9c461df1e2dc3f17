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
  const surface = $('surface');
  const controlBtn = $('control');
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
    path: '',          // how the connection goes: lan, direct, punched, relayed
    resuming: '',      // why the connection was lost, while it is being resumed
    retry: 0,
    // Control: none, pending (asked) or on (granted).
    control: 'none',
    caps: [],            // what the person granted
    controlMsg: '',      // why control ended or was refused, until the next request
    privacy: '',         // secure_prompt: the person is typing credentials
    focused: false,      // the input surface has the keyboard
    inputSent: 0,        // input commands sent (tests read it)
    inputError: false,   // an input error was shown since control began
    home: '',            // this computer's home folder, shown as ~
    // Files, by offer ID: see localweb.transfers.
    transfers: new Map(),
    clipText: '',        // what the person copied last, while the clipboard is shared
  };
  // Tests read the last drawn update here.
  window.gethelp = st;
  const sizeText = localweb.sizeText;
  const chat = localweb.chat(transcript);
  const files = localweb.transfers(st.transfers, {
    inbound: 'from_host',
    send: sendCommand,
    changed: showFiles,
    offerList: $('offers'),
    transferList: $('transfers'),
    from: who,
    hint: 'It is saved, not opened.',
    status: statusText,
    small: true,
    home: () => st.home,
  });

  // ---- WebSocket ----

  function connect() {
    const ws = new WebSocket(localweb.wsURL());
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
        st.home = m.home || '';
        st.transfers.clear();
        st.clipText = '';
        $('clip-status').textContent = '';
        transcript.textContent = '';
        st.paused = false;
        st.privacy = '';
        st.ended = false;
        setControl('none', [], '');
        setHost(m.host || '');
        showEnded(null);
        showBanner();
        showPrivacy();
        emptyNote();
        break;
      case 'reconnecting':
        st.resuming = 'Lost the connection to ' + who() + ' (' + (m.reason || 'no answer').replace(/^connection lost: /, '') + '). Reconnecting…';
        setQuality('off', 'Reconnecting');
        showBanner();
        break;
      case 'connected':
        if (st.resuming) {
          st.resuming = '';
          showBanner();
        }
        if (m.host) setHost(m.host);
        if (m.rtt_ms) st.rtt = m.rtt_ms;
        st.path = m.path || '';
        showStats({});
        break;
      case 'chat':
        chat.add(m, who());
        break;
      case 'bandwidth':
        if (m.level in LEVELS) bandwidth.value = m.level;
        break;
      case 'monitors':
        setMonitors(m.monitors || [], typeof m.monitor === 'number' ? m.monitor : -1);
        break;
      case 'sharing': {
        const paused = !!m.paused, privacy = m.privacy || '';
        if (paused !== st.paused) note(paused ? who() + ' paused screen sharing.' : who() + ' resumed screen sharing.');
        if (privacy === 'secure_prompt' && st.privacy !== privacy) {
          note(who() + ' is entering credentials; their screen is hidden from you meanwhile.');
        }
        st.paused = paused;
        st.privacy = privacy;
        showBanner();
        showPrivacy();
        showControl();
        break;
      }
      case 'control_requested':
        setControl('pending', st.caps, '');
        note('You asked ' + who() + ' for control of their mouse and keyboard.');
        break;
      case 'control_granted': {
        const caps = m.capabilities || [];
        st.inputError = false;
        setControl('on', caps, '');
        note(who() + ' let you control their mouse and keyboard' +
          (caps.includes('admin_prompts') ? ' and answer administrator prompts.' : '.'));
        break;
      }
      case 'control_denied': {
        const text = deniedText(m);
        setControl('none', m.capabilities || [], text);
        note(text);
        break;
      }
      case 'control_revoked': {
        const text = revokedText(m);
        setControl('none', m.capabilities || [], text);
        note(text);
        break;
      }
      case 'consent':
        setControl(st.control, m.capabilities || [], st.controlMsg);
        break;
      case 'snapshot':
        note('Snapshot saved to ' + m.path);
        break;
      case 'clipboard':
        if (m.self) {
          clipStatus('Sent to ' + who() + '’s clipboard (' + sizeText(m.size || 0) + ').');
        } else {
          st.clipText = m.text || '';
          clipStatus('');
          $('clip-copy-text').textContent = 'Copy';
          $('clip-select').hidden = true;
        }
        showClip();
        break;
      case 'file_offer':
      case 'file_queued':
      case 'file_progress':
      case 'file_received':
      case 'file_sent':
      case 'file_failed':
        files.event(m);
        break;
      case 'stats':
        showStats(m);
        break;
      case 'error':
        if (INPUT_COMMANDS.includes(m.command)) {
          if (st.inputError) break; // once, not for every mouse move
          st.inputError = true;
        }
        if (m.command === 'send_file' && m.upload) {
          files.uploadFailed(m.upload, m.message);
          break;
        }
        if (m.command === 'clipboard') {
          clipStatus('Not sent: ' + m.message + '.', true);
          break;
        }
        note(errorText(m), true);
        break;
      case 'disconnected':
        st.ended = true;
        files.end();
        setControl('none', [], '');
        showEnded(m.reason || 'the session ended');
        showPrivacy();
        break;
    }
  }

  function who() { return st.host || 'The person'; }

  function setHost(name) {
    st.host = name;
    $('chat-title').textContent = name ? 'Chat with ' + name : 'Chat';
    $('placeholder-text').textContent = 'Waiting for ' + (name ? name + '’s' : 'the person’s') + ' screen…';
    showTitle();
  }

  function showTitle() {
    if (st.ended) return; // showEnded's title stays
    const name = st.host;
    const on = st.control === 'on';
    $('title').textContent = name
      ? 'Helping ' + name + (on ? ' · you are in control' : ' · viewing their screen') : 'Connecting…';
    document.title = name ? 'gethelp · Helping ' + name + (on ? ' · in control' : '') : 'gethelp · Helper';
  }

  const INPUT_COMMANDS = ['pointer', 'wheel', 'key', 'type_text'];

  function errorText(m) {
    const what = { chat: 'Your message was not sent', bandwidth: 'The bandwidth was not changed',
      monitor: 'The monitor was not changed', request_control: 'Control was not requested', release_control: 'Control was not given back',
      accept_file: 'The file was not accepted', decline_file: 'The file was not declined', send_file: 'The file was not sent' }[m.command] ||
      (INPUT_COMMANDS.includes(m.command) ? 'Your input did not reach ' + who() : 'That did not work');
    return what + ': ' + m.message;
  }

  function deniedText(m) {
    if (m.by === 'policy' || m.by === 'unable') {
      return who() + '’s computer refused control' + (m.reason ? ': ' + m.reason.replace(/\.$/, '') : '') + '.';
    }
    return (m.reason ? m.reason.replace(/\.$/, '') : who() + ' declined to share control') + '.';
  }

  function revokedText(m) {
    if (m.reason) return m.reason.replace(/\.$/, '') + '.';
    switch (m.by) {
      case 'esc': return who() + ' pressed ESC and took control back.';
      case 'button': return who() + ' pressed Stop control and took control back.';
      case 'disconnect': return 'Control ended with the session.';
    }
    return who() + ' took control back.';
  }

  // ---- Chat ----

  function emptyNote() { chat.empty('Messages you and ' + who() + ' write appear here.'); }

  function note(text, isError) { chat.note(text, isError); }

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
    if (st.linkText || st.resuming) {
      b.textContent = st.linkText || st.resuming;
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
    showControl();
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

  // ---- Control ----
  //
  // While the person has granted control, a transparent textarea over the
  // picture (the input surface) takes the helper's mouse and keyboard: a
  // textarea rather than the canvas, because only an editable element gets
  // the composition (IME, dead keys) events. Nothing is sent otherwise.

  controlBtn.addEventListener('click', () => {
    if (st.ended) return;
    if (st.control === 'on') sendCommand({ type: 'release_control' });
    else if (st.control === 'none') sendCommand({ type: 'request_control' });
  });

  // setControl records the control state and shows it; leaving 'on' drops
  // what the page held (the host releases it on its side).
  function setControl(state, caps, msg) {
    if (state !== 'on' && st.control === 'on') forgetInput();
    st.control = state;
    st.caps = caps;
    st.controlMsg = msg;
    showControl();
  }

  function inputPaused() {
    return st.privacy === 'secure_prompt' && !st.caps.includes('admin_prompts');
  }

  function canInput() {
    return st.control === 'on' && !st.ended && st.w > 0 && !inputPaused() &&
      !!st.ws && st.ws.readyState === WebSocket.OPEN;
  }

  function showControl() {
    const on = st.control === 'on' && !st.ended;
    const pending = st.control === 'pending' && !st.ended;
    controlBtn.disabled = st.ended || !st.host || st.control === 'pending';
    controlBtn.classList.toggle('primary', !on);
    controlBtn.classList.toggle('on', on);
    $('control-text').textContent = on ? 'Release control' : pending ? 'Waiting for ' + who() + '…' : 'Request control';
    controlBtn.title = on ? 'Give control back to ' + who() + ' (they can take it back at any time too)'
      : pending ? 'Waiting for ' + who() + ' to allow or deny your request'
        : 'Ask ' + who() + ' to let you use their mouse and keyboard';
    surface.hidden = !on;
    stage.classList.toggle('controlling', on);
    $('surface-hint').hidden = !on || st.focused || inputPaused();
    $('surface-hint').textContent = 'Click the picture to type on ' + who() + '’s computer';
    const bar = $('control-bar');
    $('control-keys').hidden = !on;
    if (on) {
      bar.className = 'control-bar on' + (inputPaused() ? ' paused' : '');
      // The words do not change with the keyboard focus: the bar's height
      // would, and the picture would move under the click that focuses it.
      $('control-state').textContent = 'You are in control of ' + who() + '’s mouse and keyboard.';
      $('control-detail').textContent = (inputPaused() ? 'Paused while ' + who() + ' enters credentials. ' : '') +
        who() + ' can take control back at any time with ESC.';
      bar.hidden = false;
    } else if (pending) {
      bar.className = 'control-bar pending';
      $('control-state').textContent = 'Waiting for ' + who() + ' to answer…';
      $('control-detail').textContent = who() + ' chooses whether to let you use their mouse and keyboard.';
      bar.hidden = false;
    } else if (st.controlMsg && !st.ended) {
      bar.className = 'control-bar ended';
      $('control-state').textContent = st.controlMsg;
      $('control-detail').textContent = 'You can still see ' + who() + '’s screen and chat.';
      bar.hidden = false;
    } else {
      bar.hidden = true;
    }
    showTitle();
    showShare();
  }

  function showPrivacy() {
    const on = st.privacy === 'secure_prompt' && !st.ended;
    $('privacy').hidden = !on;
    if (!on) return;
    $('privacy-title').textContent = 'Waiting for ' + who() + ' to enter credentials';
    let detail = 'A password or administrator prompt is open on ' + who() + '’s computer, so their screen is hidden ' +
      'from you. It comes back when ' + who() + ' is done.';
    if (st.control === 'on') {
      detail += inputPaused() ? ' Your mouse and keyboard do nothing until then.'
        : ' You may answer administrator prompts, but cannot see this one.';
    }
    $('privacy-detail').textContent = detail;
  }

  function sendInput(cmd) {
    if (!canInput()) return false;
    st.ws.send(JSON.stringify(cmd));
    st.inputSent++;
    return true;
  }

  // Keys: held maps KeyboardEvent.code (or key) to the key sent down, so the
  // release names the same key even when Shift changed in between.
  const held = new Map();
  // Mouse: the button mask as MouseEvent.buttons, kept here from
  // mousedown/mouseup (the event's own buttons is not always filled in).
  const BUTTON_BIT = [1, 4, 2, 8, 16]; // by MouseEvent.button: left, middle, right, back, forward
  let buttons = 0;
  let pending = null; // the latest move not yet sent
  let lastSent = null;
  let frame = 0;
  const wheel = { x: 0, y: 0 };
  let composing = false;

  // forgetInput drops what the page held without sending anything.
  function forgetInput() {
    held.clear();
    buttons = 0;
    pending = null;
    lastSent = null;
    wheel.x = wheel.y = 0;
    surface.value = '';
    if (document.activeElement === surface) surface.blur();
  }

  // releaseInput lets go of everything the page holds down, telling the host.
  function releaseInput() {
    for (const key of held.values()) sendInput({ type: 'key', key: key, down: false });
    held.clear();
    if (buttons && lastSent) {
      buttons = 0;
      sendPointer(lastSent);
    }
    buttons = 0;
  }

  // imagePoint converts a mouse event's position to the shared image's
  // pixels, clamped to the picture.
  function imagePoint(e) {
    const r = canvas.getBoundingClientRect();
    if (!r.width || !r.height || !st.w) return null;
    const x = Math.floor((e.clientX - r.left) * st.w / r.width);
    const y = Math.floor((e.clientY - r.top) * st.h / r.height);
    return { x: Math.min(Math.max(x, 0), st.w - 1), y: Math.min(Math.max(y, 0), st.h - 1) };
  }

  function sendPointer(p) {
    if (sendInput({ type: 'pointer', x: p.x, y: p.y, buttons: buttons })) lastSent = { x: p.x, y: p.y, buttons: buttons };
  }

  // Moves go at most once per animation frame, the latest winning.
  function flushMove() {
    if (!pending) return;
    const p = pending;
    pending = null;
    if (lastSent && lastSent.x === p.x && lastSent.y === p.y && lastSent.buttons === buttons) return;
    sendPointer(p);
  }

  window.addEventListener('mousemove', (e) => {
    if (st.control !== 'on' || (e.target !== surface && !buttons)) return;
    const p = imagePoint(e);
    if (!p || !canInput()) return;
    pending = p;
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; flushMove(); });
  });

  surface.addEventListener('mousedown', (e) => {
    e.preventDefault(); // no text selection; focus is given below
    surface.focus({ preventScroll: true });
    const p = imagePoint(e);
    if (!p || !canInput()) return;
    pending = null;
    buttons |= BUTTON_BIT[e.button] || 0;
    sendPointer(p);
  });

  window.addEventListener('mouseup', (e) => {
    const bit = BUTTON_BIT[e.button] || 0;
    if (!(buttons & bit)) return;
    e.preventDefault(); // the back and forward buttons would leave the page
    buttons &= ~bit;
    const p = imagePoint(e);
    if (p) { pending = null; sendPointer(p); }
  });

  surface.addEventListener('wheel', (e) => {
    e.preventDefault(); // the wheel scrolls the person's screen, not this page
    if (!canInput()) return;
    flushMove();
    // One notch per line, or per 100 pixels (what one notch gives in
    // Chromium); fractions add up, so touchpads scroll too.
    const unit = e.deltaMode === 1 ? 1 : e.deltaMode === 2 ? 3 : 0.01;
    for (const [axis, d] of [['x', e.deltaX * unit], ['y', e.deltaY * unit]]) {
      if (d && Math.sign(d) !== Math.sign(wheel[axis])) wheel[axis] = 0;
      wheel[axis] += d;
    }
    const dx = Math.trunc(wheel.x), dy = Math.trunc(wheel.y);
    if (!dx && !dy) return;
    wheel.x -= dx;
    wheel.y -= dy;
    const clamp = (n) => Math.max(-1000, Math.min(1000, n));
    sendInput({ type: 'wheel', dx: clamp(dx), dy: clamp(dy) });
  }, { passive: false });

  // Nothing of this page's own: no menu, no middle-click paste, no drops.
  ['contextmenu', 'auxclick', 'dragstart', 'dragover', 'drop', 'paste', 'copy', 'cut'].forEach((type) => {
    surface.addEventListener(type, (e) => { e.preventDefault(); });
  });
  surface.addEventListener('beforeinput', (e) => {
    if (e.inputType && e.inputType.startsWith('insertFrom')) e.preventDefault();
  });

  // A key that names itself (a character, Enter, F5, Control) goes as a key,
  // and its default is prevented so Tab, Backspace or F5 do not act on this
  // page. A key that does not (a dead key, an input method at work) is left
  // to make text, which goes as type_text.
  function textKey(e) {
    return e.isComposing || composing || e.keyCode === 229 ||
      e.key === 'Process' || e.key === 'Dead' || e.key === 'Unidentified' || !e.key;
  }

  surface.addEventListener('keydown', (e) => {
    if (textKey(e) || !canInput()) return;
    e.preventDefault();
    held.set(e.code || e.key, e.key);
    sendInput({ type: 'key', key: e.key, down: true });
  });

  // A key sent as a key makes no text as well: browsers skip keypress
  // after a prevented keydown, but not every input path does (a separately
  // dispatched character event, as automation sends).
  surface.addEventListener('keypress', (e) => {
    if (held.has(e.code || e.key)) e.preventDefault();
  });

  surface.addEventListener('keyup', (e) => {
    const id = e.code || e.key;
    if (!held.has(id)) return;
    e.preventDefault();
    const key = held.get(id);
    held.delete(id);
    sendInput({ type: 'key', key: key, down: false });
  });

  function flushText() {
    const text = surface.value;
    surface.value = '';
    if (text) sendInput({ type: 'type_text', text: text });
  }

  surface.addEventListener('input', (e) => {
    if (e.isComposing || composing) return;
    flushText();
  });
  surface.addEventListener('compositionstart', () => { composing = true; });
  surface.addEventListener('compositionend', (e) => {
    surface.value = '';
    if (e.data) sendInput({ type: 'type_text', text: e.data });
    // Some browsers add the composed text once more after compositionend.
    setTimeout(() => { composing = false; surface.value = ''; }, 0);
  });

  surface.addEventListener('focus', () => { st.focused = true; showControl(); });
  surface.addEventListener('blur', () => {
    st.focused = false;
    releaseInput(); // nothing stays pressed while the keys go elsewhere
    showControl();
  });

  // ---- Files and clipboard ----

  function has(c) { return st.caps.includes(c) && !st.ended; }

  // showShare shows what the person lets the helper do with files and the
  // clipboard.
  function showShare() {
    const allowed = has('files');
    const btn = $('send-file');
    btn.disabled = !allowed || !st.host;
    const tip = st.ended ? 'The session has ended' : allowed ? 'Send a file to ' + who() + ' (they accept or decline it)'
      : who() + ' has not allowed files';
    btn.title = tip;
    $('send-file-wrap').title = tip; // a disabled button shows no tooltip in every browser
    showClip();
    showFiles();
  }

  function clipStatus(text, isError) {
    const el = $('clip-status');
    el.textContent = text;
    el.classList.toggle('error', !!isError);
  }

  function showClip() {
    const on = has('clipboard');
    $('clip').hidden = !on;
    if (!on) {
      $('paste-form').hidden = true;
      $('clip-select').hidden = true;
      return;
    }
    const text = st.clipText;
    $('clip-chip').hidden = !text;
    $('clip-who').textContent = who() + ' copied:';
    const flat = text.replace(/\s+/g, ' ').trim();
    const chars = [...flat];
    $('clip-preview').textContent = '“' + (chars.length > 80 ? chars.slice(0, 80).join('').trimEnd() + '…' : flat) + '”';
    $('clip-preview').title = text.length > 2000 ? text.slice(0, 2000) + '…' : text;
    $('send-clipboard').title = 'Put the text on your clipboard on ' + who() + '’s clipboard';
    if (!text && !$('clip-status').textContent) clipStatus('When ' + who() + ' copies text, it appears here.');
  }

  $('clip-copy').addEventListener('click', async () => {
    const text = st.clipText;
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch (e) {
      // Without the asynchronous clipboard: copy from a selected textarea.
      const ta = $('clip-select');
      ta.value = text;
      ta.hidden = false;
      ta.focus();
      ta.select();
      try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
      if (ok) ta.hidden = true;
    }
    $('clip-copy-text').textContent = ok ? 'Copied' : 'Press Ctrl+C';
    setTimeout(() => { $('clip-copy-text').textContent = 'Copy'; }, 2000);
  });

  // The helper's own clipboard is read with their click (browsers want a
  // gesture, and may ask); where it cannot be read, a box to paste into.
  $('send-clipboard').addEventListener('click', async () => {
    let text = null;
    try {
      if (!navigator.clipboard || !navigator.clipboard.readText) throw new Error('no clipboard access');
      text = await Promise.race([
        navigator.clipboard.readText(),
        new Promise((resolve, reject) => setTimeout(() => reject(new Error('no answer')), 4000)),
      ]);
    } catch (e) {
      text = null;
    }
    if (!text) {
      showPaste(text === '' ? 'Your clipboard holds no text. Paste or type the text here and press Send.'
        : 'Your browser did not let gethelp read your clipboard. Paste here (Ctrl+V) and press Send.');
      return;
    }
    sendClipboard(text);
  });

  function showPaste(label) {
    $('paste-label').textContent = label;
    $('paste-form').hidden = false;
    $('paste-text').value = '';
    $('paste-text').focus();
  }

  $('paste-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('paste-text').value;
    if (!text) return;
    if (sendClipboard(text)) {
      $('paste-text').value = '';
      $('paste-form').hidden = true;
    }
  });
  $('paste-cancel').addEventListener('click', () => {
    $('paste-text').value = '';
    $('paste-form').hidden = true;
  });

  // MAX_CLIPBOARD is the most the session carries, in bytes (UTF-8).
  const MAX_CLIPBOARD = 48 * 1024;

  function sendClipboard(text) {
    const bytes = new TextEncoder().encode(text).length;
    const msg = JSON.stringify({ type: 'clipboard', text: text });
    if (bytes > MAX_CLIPBOARD || msg.length > 120000) {
      clipStatus('Not sent: the text is longer than 48 KB.', true);
      return false;
    }
    if (!st.ws || st.ws.readyState !== WebSocket.OPEN) {
      clipStatus('Not sent: not connected to gethelp on this computer.', true);
      return false;
    }
    st.ws.send(msg);
    clipStatus('Sending…');
    return true;
  }

  function statusText(t) {
    const pct = t.total ? Math.floor(100 * t.done / t.total) + '%' : '';
    switch (t.state) {
      case 'uploading': return 'Preparing… ' + pct;
      case 'preparing': return 'Checking the file…';
      case 'waiting': return 'Waiting for ' + who() + ' to accept…';
      case 'accepted': return 'Accepted; waiting for the file…';
      case 'moving': return (t.dir === 'in' ? 'Receiving… ' : 'Sending… ') + pct;
      case 'done': return t.dir === 'in' ? 'Saved to ' : 'Sent: ' + who() + ' has it';
      case 'declined': return t.dir === 'in' ? 'You declined it' : who() + ' declined it';
      case 'failed': return (t.dir === 'in' ? 'Not received: ' : 'Not sent: ') + t.reason;
    }
    return '';
  }

  // showFiles draws the offers waiting for an answer and the transfers,
  // newest first.
  function showFiles() {
    $('files').hidden = st.transfers.size === 0;
    files.draw();
    const n = files.offers().length;
    $('files-title').textContent = n ? 'Files · ' + n + ' waiting for you' : 'Files';
  }

  // ---- Sending files ----

  $('send-file').addEventListener('click', () => { if (has('files')) $('file-input').click(); });
  $('file-input').addEventListener('change', (e) => {
    const chosen = [...e.target.files];
    e.target.value = '';
    sendFiles(chosen);
  });

  async function sendFiles(list) {
    for (const f of list) await sendFile(f);
  }

  // sendFile sends a file the helper chose or dropped, once the person
  // allows files.
  async function sendFile(file) {
    if (!has('files')) {
      note(who() + ' has not allowed files: ' + file.name + ' was not sent.', true);
      return;
    }
    await files.send(file);
  }

  // A file dropped on the picture is sent like a chosen one.
  function draggingFiles(e) {
    return e.dataTransfer && [...e.dataTransfer.types].includes('Files');
  }
  let dragDepth = 0;
  function showDrop(on) {
    $('drop').hidden = !on;
    $('drop-text').textContent = has('files') ? 'Drop to send to ' + who() : who() + ' has not allowed files';
    $('drop').classList.toggle('refused', !has('files'));
  }
  viewport.addEventListener('dragenter', (e) => {
    if (!draggingFiles(e)) return;
    e.preventDefault();
    dragDepth++;
    showDrop(true);
  });
  viewport.addEventListener('dragover', (e) => {
    if (!draggingFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = has('files') ? 'copy' : 'none';
  });
  viewport.addEventListener('dragleave', (e) => {
    if (!draggingFiles(e)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) showDrop(false);
  });
  viewport.addEventListener('drop', (e) => {
    if (!draggingFiles(e)) return;
    e.preventDefault();
    dragDepth = 0;
    showDrop(false);
    const dropped = [...e.dataTransfer.files];
    if (!has('files')) {
      note(who() + ' has not allowed files.', true);
      return;
    }
    sendFiles(dropped);
  });
  // A file dropped anywhere else is not opened in place of this page.
  window.addEventListener('dragover', (e) => { if (draggingFiles(e)) e.preventDefault(); });
  window.addEventListener('drop', (e) => { if (draggingFiles(e)) e.preventDefault(); });

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

  // How the connection reaches the person's computer: [label, explanation].
  const PATHS = {
    lan: ['Direct (same network)', 'Connected directly over your local network.'],
    direct: ['Direct', 'Connected directly to the person\'s computer.'],
    punched: ['Direct (through NAT)', 'Connected directly, through both routers.'],
    relayed: ['Relayed', 'No direct path: the relay forwards the session, end-to-end encrypted; it cannot read it.'],
  };

  function showStats(m) {
    if (st.ended) return;
    if (m.rtt_ms) st.rtt = m.rtt_ms;
    const lat = m.latency_ms || 0;
    const worst = Math.max(st.rtt, lat);
    if (!st.ended && !st.linkText && !st.resuming) {
      if (worst < 150) setQuality('good', 'Good connection');
      else if (worst < 400) setQuality('fair', 'Fair connection');
      else setQuality('poor', 'Poor connection');
    }
    const path = PATHS[st.path];
    const rtt = st.rtt ? 'RTT ' + st.rtt.toFixed(st.rtt < 10 ? 1 : 0) + ' ms' : '';
    $('stat-rtt').textContent = path ? path[0] + (rtt ? ' · ' + rtt : '') : rtt;
    $('stat-rtt').title = (path ? path[1] + ' ' : '') + 'Round-trip time to the person\'s computer.';
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
  showControl();
  connect();
})();
