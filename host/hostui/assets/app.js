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
  const dialog = $('control-dialog');
  const allowBtn = $('cd-allow');
  // Allow stays disabled this long after the question appears, so a click
  // meant for what was there before cannot answer it.
  const ALLOW_DELAY = 1000;

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
    caps: [],       // what the helper may do now (control, admin_prompts, files, clipboard)
    request: null,  // the unanswered request for control: {helper, admin}
    hidden: false,  // a secure prompt hides the screen from the helper
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
        st.caps = [];
        st.hidden = false;
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
      case 'privacy': {
        // A password or administrator prompt came (the helper's view is
        // blanked) or went.
        const hidden = m.privacy === 'secure_prompt';
        const who = m.helper || st.helper || 'Your helper';
        if (hidden && !st.hidden) {
          addLog('A password or administrator prompt is open: ' + who + ' cannot see your screen' +
            (inControl() ? ' or use your mouse and keyboard' : '') + ' until it closes.', '', m.time);
        } else if (!hidden && st.hidden) {
          addLog('The prompt closed: ' + who + ' can see your screen again.', '', m.time);
        }
        st.hidden = hidden;
        setStatus(st.status);
        break;
      }
      case 'control_requested': {
        const who = m.helper || st.helper || 'Your helper';
        st.request = { helper: who, admin: !!m.admin_prompts };
        showRequest();
        addLog(who + ' asked to control your mouse and keyboard.', '', m.time);
        break;
      }
      case 'control_granted': {
        const who = m.helper || st.helper;
        st.caps = m.capabilities || [];
        closeRequest();
        setStatus(st.status);
        addLog('You let ' + who + ' ' + grantedText(st.caps) + '.', '', m.time);
        break;
      }
      case 'control_denied': {
        const who = m.helper || st.helper;
        closeRequest();
        if (m.by === 'deny') {
          addLog('You declined ' + who + '’s request to control your mouse and keyboard.', '', m.time);
        } else {
          addLog(who + ' asked to control your mouse and keyboard and was refused: ' +
            (m.reason || 'this computer does not allow it').replace(/\.$/, '') + '.', 'warn', m.time);
        }
        break;
      }
      case 'control_revoked': {
        const who = m.helper || st.helper;
        const gone = m.capabilities || [];
        st.caps = st.caps.filter((c) => !gone.includes(c));
        setStatus(st.status);
        addLog(revokedText(who, m.by, gone), '', m.time);
        break;
      }
      case 'disconnected': {
        st.caps = [];
        st.hidden = false;
        closeRequest();
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
      case 'error': {
        if (m.command === 'chat') {
          note('Your message was not sent: ' + m.message + '.', true);
          break;
        }
        const what = { grant: 'Control was not given', deny: 'The request was not declined',
          revoke: 'Control was not taken back' }[m.command] || 'That did not work';
        addLog(what + ': ' + m.message + '.', 'bad');
        break;
      }
    }
  }

  function onHello(m) {
    st.hostName = m.host_name || '';
    // Only say "press ESC" where ESC works on this computer.
    document.querySelectorAll('.esc-hint').forEach((el) => { el.hidden = !m.esc_stops_control; });
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
    st.caps = [];
    st.hidden = false;
    closeRequest();
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
      $('title').textContent = (inControl() ? st.helper + ' is in control of your computer' : st.helper + ' is connected') +
        (st.paused ? ' · sharing paused' : '');
      $('claim').textContent = '“' + st.helper + '” is the name your helper typed. Make sure it is who you expect; if not, press Disconnect.';
      showRights();
    } else {
      card.className = 'card status ' + st.endClass;
      $('status-title').textContent = st.endTitle;
      $('status-detail').textContent = st.endDetail;
      $('title').textContent = st.endTitle;
    }
    $('rights').hidden = !connected;
    $('claim').hidden = !connected;
    $('control-banner').hidden = !(connected && inControl());
    $('control-banner-who').textContent = st.helper + ' is in control of your mouse and keyboard';
    $('stop-control').disabled = !(connected && inControl());
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
    document.title = 'gethelp · ' + (st.request ? st.request.helper + ' asks to control your computer' : $('title').textContent);
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

  // ---- Control ----

  function has(cap) { return st.caps.includes(cap); }
  function inControl() { return has('control'); }

  function showRights() {
    const ul = $('rights');
    ul.textContent = '';
    const item = (yes, text) => {
      const li = document.createElement('li');
      li.className = yes ? 'yes' : 'no';
      li.textContent = text;
      ul.appendChild(li);
    };
    if (st.hidden) item(false, 'Cannot see your screen while you enter credentials');
    else item(true, st.paused ? 'Can see your screen (paused now)' : 'Can see your screen');
    if (inControl()) {
      item(true, has('admin_prompts') ? 'Can use your mouse and keyboard, and answer administrator prompts'
        : 'Can use your mouse and keyboard');
    } else {
      item(false, 'Cannot use your mouse or keyboard');
    }
    item(has('files'), has('files') ? 'Can offer you files' : 'Cannot see or copy your files');
    if (has('clipboard')) item(true, 'Shares your clipboard');
  }

  const CAP_WORDS = {
    control: 'use your mouse and keyboard', admin_prompts: 'answer administrator prompts',
    files: 'offer you files', clipboard: 'share your clipboard',
  };

  function listText(words) {
    if (words.length < 2) return words.join('');
    return words.slice(0, -1).join(', ') + ' and ' + words[words.length - 1];
  }

  function grantedText(caps) {
    return listText(caps.map((c) => CAP_WORDS[c] || c));
  }

  function revokedText(who, by, gone) {
    if (!gone.includes('control')) return 'You took back what ' + who + ' could do: ' + grantedText(gone) + '.';
    switch (by) {
      case 'esc': return 'You pressed ESC and took control back from ' + who + '.';
      case 'button': return 'You pressed Stop control and took control back from ' + who + '.';
      case 'disconnect': return who + '’s control of your mouse and keyboard ended with the session.';
      case 'helper': return who + ' gave control of your mouse and keyboard back.';
    }
    return 'Control was taken back from ' + who + '.';
  }

  let allowTimer = 0;

  // showRequest asks the person about st.request, in a modal dialog whose
  // safe answer, Deny, has the focus.
  function showRequest() {
    const r = st.request;
    $('cd-title').textContent = r.helper + ' wants to control your mouse and keyboard';
    $('cd-risk').textContent = 'If you allow it, ' + r.helper + ' can do anything you can do on this computer: ' +
      'open, change or delete your files, change settings and install programs. Only allow someone you trust.';
    $('cd-admin-row').hidden = !r.admin;
    $('cd-admin').checked = false;
    $('cd-admin-label').textContent = 'Allow ' + r.helper + ' to respond to administrator prompts';
    $('cd-admin-hint').textContent = r.helper + ' could then answer requests for administrator rights and passwords, ' +
      'and run programs as administrator, without you.';
    allowBtn.disabled = true;
    clearTimeout(allowTimer);
    allowTimer = setTimeout(() => { allowBtn.disabled = false; }, ALLOW_DELAY);
    if (!dialog.open) dialog.showModal();
    $('cd-deny').focus();
    setStatus(st.status);
  }

  function closeRequest() {
    st.request = null;
    clearTimeout(allowTimer);
    if (dialog.open) dialog.close();
    setStatus(st.status);
  }

  function answer(allow) {
    const r = st.request;
    if (!r) return;
    const cmd = allow
      ? { type: 'grant', capabilities: r.admin && $('cd-admin').checked ? ['control', 'admin_prompts'] : ['control'] }
      : { type: 'deny' };
    if (sendCommand(cmd)) closeRequest();
  }

  allowBtn.addEventListener('click', () => { if (!allowBtn.disabled) answer(true); });
  $('cd-deny').addEventListener('click', () => { answer(false); });
  // ESC in the dialog declines, like Deny.
  dialog.addEventListener('cancel', (e) => {
    e.preventDefault();
    answer(false);
  });
  $('stop-control').addEventListener('click', () => { sendCommand({ type: 'revoke' }); });

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
