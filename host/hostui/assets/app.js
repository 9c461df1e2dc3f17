// gethelp, the person's window. Talks to the local gethelp over one
// WebSocket: JSON events in, JSON commands out.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const LEVELS = { low: 'Low', medium: 'Medium', high: 'High', full: 'Full quality' };
  const transcript = $('transcript');
  const log = $('log');
  const input = $('chat-input');
  const bandwidth = $('bandwidth');

  const st = {
    ws: null,
    retry: 0,
    hostName: '',
    status: 'waiting', // waiting, connected, ended
    helper: '',
    addr: '',
    since: null,
    paused: false,
    expires: null,
    endTitle: '',
    endDetail: '',
  };
  window.gethelp = st;

  // ---- WebSocket ----

  function connect() {
    const t = new URLSearchParams(location.search).get('t');
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws' +
      (t ? '?t=' + encodeURIComponent(t) : '');
    const ws = new WebSocket(url);
    st.ws = ws;
    ws.onopen = () => { st.retry = 0; $('link').hidden = true; };
    ws.onmessage = (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      onEvent(m);
    };
    ws.onclose = () => {
      if (st.ws !== ws) return;
      st.ws = null;
      if (st.status === 'ended') {
        $('link').textContent = 'gethelp has stopped on this computer. You can close this window.';
        $('link').hidden = false;
        return;
      }
      $('link').textContent = 'Lost contact with gethelp on this computer. Reconnecting…';
      $('link').hidden = false;
      st.retry = Math.min(st.retry + 1, 5);
      setTimeout(connect, 400 * st.retry);
    };
  }

  function sendCommand(cmd) {
    if (!st.ws || st.ws.readyState !== WebSocket.OPEN) {
      addLog('Not connected to gethelp on this computer; try again in a moment.', 'bad');
      return false;
    }
    st.ws.send(JSON.stringify(cmd));
    return true;
  }

  // ---- Events ----

  function onEvent(m) {
    switch (m.type) {
      case 'hello':
        onHello(m);
        break;
      case 'waiting':
        setStatus('waiting');
        addLog('Waiting for your helper to connect.', '', m.time);
        break;
      case 'auth_failed': {
        const left = typeof m.attempts_left === 'number' ? m.attempts_left : null;
        addLog('Wrong password from ' + quoted(m.helper) + at(m.addr) + '.' +
          (left !== null ? ' ' + left + (left === 1 ? ' attempt' : ' attempts') + ' left before the invitation locks.' : ''),
        'warn', m.time);
        break;
      }
      case 'locked':
        setEnded('Invitation locked', 'Too many wrong passwords. Ask for help again with a new invitation.', 'alarm');
        addLog(cap(m.reason || 'The invitation is locked') + '.', 'bad', m.time);
        break;
      case 'busy':
        addLog(quoted(m.helper) + at(m.addr) + ' tried to connect while you are being helped, and was refused.', 'warn', m.time);
        break;
      case 'connected':
        st.helper = m.helper || 'Your helper';
        st.addr = m.addr || '';
        st.since = m.time ? new Date(m.time) : new Date();
        st.paused = false;
        setStatus('connected');
        addLog(st.helper + ' connected' + at(m.addr) + '.', '', m.time);
        break;
      case 'chat':
        addChat(m);
        break;
      case 'bandwidth':
        if (m.level in LEVELS) bandwidth.value = m.level;
        addLog((m.helper ? m.helper : 'You') + ' set the bandwidth to ' + (LEVELS[m.level] || m.level) + '.', '', m.time);
        break;
      case 'sharing':
        st.paused = !!m.paused;
        setStatus(st.status);
        addLog(st.paused ? 'You paused screen sharing.' : 'You resumed screen sharing.', '', m.time);
        break;
      case 'disconnected': {
        let reason = m.reason || 'disconnected';
        if (st.hostName && reason === st.hostName + ' ended the session') reason = 'you ended the session';
        setEnded('The session ended', cap(reason) + '.', 'ended');
        addLog('The session ended: ' + reason + '.', '', m.time);
        break;
      }
      case 'expired':
        setEnded('The invitation expired', 'Nobody connected in time. Ask for help again to make a new invitation.', 'ended');
        addLog('The invitation expired.', '', m.time);
        break;
      case 'cancelled':
        setEnded('The invitation was cancelled', cap(m.reason || 'cancelled') + '.', 'ended');
        addLog('The invitation was cancelled.', '', m.time);
        break;
      case 'error':
        if (m.command === 'chat') note('Your message was not sent: ' + m.message + '.', true);
        else addLog('That did not work: ' + m.message + '.', 'bad');
        break;
    }
  }

  function onHello(m) {
    st.hostName = m.host_name || '';
    st.status = 'waiting';
    st.paused = false;
    st.helper = '';
    transcript.textContent = '';
    log.textContent = '';
    emptyNote();
    $('password').textContent = m.password || '';
    const inv = m.invitation || {};
    $('inv-id').textContent = inv.id || '';
    st.expires = inv.expires ? new Date(inv.expires) : null;
    showExpiry();
    $('inv-addrs').textContent = (inv.addresses || []).join(', ');
    bandwidth.value = (m.level in LEVELS) ? m.level : '';
    setStatus('waiting');
  }

  function quoted(name) { return name ? '“' + name + '”' : 'someone'; }
  function at(addr) { return addr ? ' from ' + addr : ''; }
  function cap(s) { return s.charAt(0).toUpperCase() + s.slice(1); }

  // ---- Status ----

  function setStatus(status) {
    st.status = status;
    const card = $('status-card');
    const connected = status === 'connected';
    if (status === 'waiting') {
      card.className = 'card status waiting';
      $('status-title').textContent = 'Waiting for your helper';
      $('status-detail').textContent = 'Send your helper the invitation. Give them the password below separately.';
      $('title').textContent = (st.hostName ? st.hostName + ' · ' : '') + 'waiting for a helper';
    } else if (connected) {
      card.className = 'card status connected' + (st.paused ? ' paused' : '');
      $('status-title').textContent = st.helper + ' is helping you';
      $('status-detail').textContent = 'Connected' + at(st.addr) + (st.since ? ' since ' + clock(st.since) : '') +
        (st.paused ? '. Screen sharing is paused: ' + st.helper + ' sees the last picture.' : '.');
      $('title').textContent = st.helper + ' is connected' + (st.paused ? ' · sharing paused' : '');
      $('claim').textContent = '“' + st.helper + '” is the name your helper typed. Make sure it is who you expect; if not, press Disconnect.';
      $('rights').firstElementChild.textContent = st.paused ? 'Can see your screen (paused now)' : 'Can see your screen';
    } else {
      card.className = 'card status ' + st.endClass;
      $('status-title').textContent = st.endTitle;
      $('status-detail').textContent = st.endDetail;
      $('title').textContent = st.endTitle;
    }
    $('rights').hidden = !connected;
    $('claim').hidden = !connected;
    $('disconnect').disabled = !connected;
    $('disconnect').title = connected ? 'End the session now' : 'Nobody is connected';
    $('pause').disabled = !connected;
    $('pause').setAttribute('aria-pressed', String(st.paused));
    $('pause-text').textContent = st.paused ? 'Resume sharing' : 'Pause sharing';
    $('pause-icon').innerHTML = st.paused
      ? '<path d="M7 5l12 7-12 7z" fill="currentColor"/>'
      : '<path d="M8 5v14M16 5v14" stroke="currentColor" stroke-width="3" stroke-linecap="round"/>';
    const ended = status === 'ended';
    bandwidth.disabled = ended;
    $('copy').disabled = ended;
    $('password-card').classList.toggle('spent', ended);
    $('password-note').textContent = ended
      ? 'This invitation is no longer valid: nobody can connect with it now.'
      : 'Give it to your helper by phone or another chat, not with the invitation.';
    input.disabled = !connected;
    $('chat-send').disabled = !connected;
    input.placeholder = connected ? 'Type a message…' : (status === 'waiting' ? 'Not connected yet' : 'The session has ended');
    $('chat-title').textContent = st.helper ? 'Chat with ' + st.helper : 'Chat with your helper';
    document.title = 'gethelp · ' + $('title').textContent;
  }

  function setEnded(title, detail, cls) {
    st.endTitle = title;
    st.endDetail = detail;
    st.endClass = cls;
    st.paused = false;
    setStatus('ended');
  }

  function clock(d) { return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }); }

  function showExpiry() {
    const el = $('inv-expires');
    if (!st.expires) { el.textContent = ''; return; }
    const mins = Math.round((st.expires - Date.now()) / 60000);
    let rel;
    if (mins <= 0) rel = 'expired';
    else if (mins < 60) rel = 'in ' + mins + ' min';
    else rel = 'in ' + Math.floor(mins / 60) + ' h ' + (mins % 60) + ' min';
    el.textContent = st.expires.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) + ' (' + rel + ')';
  }
  setInterval(showExpiry, 30000);

  // ---- Activity log ----

  function addLog(text, cls, iso) {
    const li = document.createElement('li');
    const time = document.createElement('time');
    const d = iso ? new Date(iso) : new Date();
    time.dateTime = d.toISOString();
    time.textContent = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    const span = document.createElement('span');
    span.textContent = text;
    if (cls) span.className = cls;
    li.append(time, span);
    log.prepend(li); // newest first
  }

  // ---- Chat ----

  function emptyNote() {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'Messages you and your helper write appear here.';
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
    name.textContent = m.self ? 'You' : (m.from || st.helper || 'Helper');
    const time = document.createElement('time');
    time.dateTime = m.time || '';
    time.textContent = clock(m.time ? new Date(m.time) : new Date());
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
    if (!text) return;
    if (sendCommand({ type: 'chat', text: text })) input.value = '';
  });

  // ---- Controls ----

  $('disconnect').addEventListener('click', () => { sendCommand({ type: 'disconnect' }); });
  $('pause').addEventListener('click', () => { sendCommand({ type: st.paused ? 'resume' : 'pause' }); });
  bandwidth.addEventListener('change', () => {
    if (bandwidth.value) sendCommand({ type: 'bandwidth', level: bandwidth.value });
  });

  $('copy').addEventListener('click', async () => {
    const text = $('password').textContent;
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch (e) {
      const r = document.createRange();
      r.selectNodeContents($('password'));
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(r);
      try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
    }
    $('copy-text').textContent = ok ? 'Copied' : 'Select and copy';
    setTimeout(() => { $('copy-text').textContent = 'Copy'; }, 2000);
  });

  emptyNote();
  setStatus('waiting');
  connect();
})();
