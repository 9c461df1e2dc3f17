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
  const offerDialog = $('offer-dialog');
  const acceptBtn = $('od-accept');
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
    offers: false,  // this computer takes offers of help (gethelp host serve), not an invitation
    offer: null,    // the offer of help the person is asked about: {id, helper, fingerprint, addr}
    keyName: '',    // serve: the key of the helper connected, whose name the administrator gave
    hidden: false,  // a secure prompt hides the screen from the helper
    home: '',       // the person's home folder, shown as ~
    // Files, by offer ID: see localweb.transfers.
    transfers: new Map(),
    granting: '',   // what the last grant or revoke was about: control, or another capability
  };
  window.gethelp = st;
  const sizeText = localweb.sizeText;
  const chat = localweb.chat(transcript);
  const files = localweb.transfers(st.transfers, {
    inbound: 'from_helper',
    send: sendCommand,
    changed: showTransfers,
    offerList: $('offers'),
    transferList: $('transfers'),
    from: (t) => t.from || st.helper,
    hint: 'Accept only a file you expect. It is saved, not opened.',
    size: (t) => (t.dir === 'in' ? 'from ' : 'to ') + (t.from || st.helper || 'your helper') + ' · ' + sizeText(t.size || t.total || 0),
    status: statusText,
    home: () => st.home,
    sendFailed: (t, message) => addLog(t.name + ' was not sent: ' + message.replace(/\.$/, '') + '.', 'warn'),
  });

  // ---- WebSocket ----

  // How the helper's connection reached this computer, for the log.
  const VIA = {
    lan: ', on your local network',
    direct: ', directly',
    punched: ', directly through your router',
    relayed: ', through the relay (it forwards the session encrypted and cannot read it)',
  };

  function connect() {
    const ws = new WebSocket(localweb.wsURL());
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
        addLog(st.offers ? 'Waiting for an offer of help.' : 'Waiting for your helper to connect.', '', m.time);
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
      case 'offer':
        st.offer = { id: m.id || '', helper: m.helper || 'A helper', fingerprint: m.fingerprint || '', addr: m.addr || '' };
        showOffer();
        addLog(st.offer.helper + at(m.addr) + ' offered to help you.', '', m.time);
        break;
      case 'offer_declined': {
        const who = m.helper || 'the helper';
        if (st.offer && (!m.id || m.id === st.offer.id)) closeOffer();
        const text = {
          deny: 'You declined ' + who + '’s offer of help.',
          timeout: 'Nobody answered ' + who + '’s offer of help in time; it was declined.',
          helper: cap(who) + ' withdrew the offer of help.',
          policy: cap(who) + '’s offer of help was refused: ' + (m.reason || 'the policy changed') + '.',
        }[m.by] || cap(who) + '’s offer of help ended: ' + (m.reason || m.by) + '.';
        addLog(text, m.by === 'deny' ? '' : 'warn', m.time);
        break;
      }
      case 'offer_refused':
        addLog(m.by === 'not_allowed'
          ? 'Someone' + at(m.addr) + ' offered help with a key your administrator does not allow (' + (m.fingerprint || 'unknown key') + '), and was refused without asking you.'
          : 'Someone' + at(m.addr) + ' offered help, but offers of help are turned off on this computer; refused.', 'warn', m.time);
        break;
      case 'reconnecting':
        addLog('The connection to ' + (m.helper || st.helper || 'your helper') + ' was lost (' + (m.reason || 'no answer').replace(/^connection lost: /, '') + '). Waiting for them to come back…', 'warn', m.time);
        break;
      case 'connected':
        if (m.resumed) {
          addLog((m.helper || st.helper) + ' is back' + (VIA[m.path] || '') + '. The session goes on as before.', '', m.time);
          break;
        }
        if (st.offer) {
          st.keyName = st.offer.fingerprint;
          closeOffer();
        }
        st.helper = m.helper || 'Your helper';
        st.addr = m.addr || '';
        st.since = m.time ? new Date(m.time) : new Date();
        st.paused = false;
        st.caps = [];
        st.hidden = false;
        setStatus('connected');
        addLog(st.helper + ' connected' + at(m.addr) + (VIA[m.path] || '') + (m.rtt_ms ? ' (round trip ' + m.rtt_ms.toFixed(m.rtt_ms < 10 ? 1 : 0) + ' ms)' : '') + '.', '', m.time);
        showTransfers();
        break;
      case 'chat':
        chat.add(m, st.helper || 'Helper');
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
        const caps = m.capabilities || [];
        const added = caps.filter((c) => !st.caps.includes(c));
        st.caps = caps;
        if (caps.includes('control')) closeRequest();
        setStatus(st.status);
        if (added.length) addLog('You let ' + who + ' ' + grantedText(added) + '.', '', m.time);
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
        const text = revokedText(who, m.by, gone);
        if (text) addLog(text, '', m.time);
        break;
      }
      case 'clipboard': {
        const who = st.helper || 'your helper';
        const size = sizeText(m.size || 0);
        addLog(m.direction === 'from_helper'
          ? cap(who) + ' put text on your clipboard (' + size + ').'
          : 'What you copied went to ' + who + ' (' + size + ').', '', m.time);
        break;
      }
      case 'file_offer':
        onFileOffer(m);
        break;
      case 'file_queued':
      case 'file_progress':
        files.event(m);
        break;
      case 'file_received':
      case 'file_sent':
        onFileDone(m);
        break;
      case 'file_failed':
        onFileFailed(m);
        break;
      case 'disconnected': {
        st.caps = [];
        st.hidden = false;
        closeRequest();
        files.end();
        showTransfers();
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
        if (st.offers) {
          closeOffer();
          setEnded('gethelp stopped', 'This computer no longer takes offers of help. You can close this window.', 'ended');
          addLog('gethelp stopped taking offers of help.', '', m.time);
          break;
        }
        setEnded('The invitation was cancelled', cap(m.reason || 'cancelled') + '.', 'ended');
        addLog('The invitation was cancelled.', '', m.time);
        break;
      case 'error': {
        if (m.command === 'chat') {
          chat.note('Your message was not sent: ' + m.message + '.', true);
          break;
        }
        if (m.command === 'send_file' && m.upload) {
          files.uploadFailed(m.upload, m.message);
          break;
        }
        const other = st.granting && st.granting !== 'control';
        const what = {
          grant: other ? 'That was not allowed' : 'Control was not given',
          deny: 'The request was not declined',
          revoke: other ? 'That was not taken back' : 'Control was not taken back',
          accept_file: 'The file was not accepted', decline_file: 'The file was not declined',
          send_file: 'The file was not sent',
        }[m.command] || 'That did not work';
        addLog(what + ': ' + m.message + '.', 'bad');
        if (m.command === 'grant' || m.command === 'revoke') setStatus(st.status); // the switches again
        break;
      }
    }
  }

  function onHello(m) {
    st.hostName = m.host_name || '';
    st.home = m.home || '';
    st.transfers.clear();
    showTransfers();
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
    // Offers of help: no password and no invitation, this computer's key.
    st.offers = !!m.offers;
    $('password-card').hidden = st.offers;
    $('invitation-title').textContent = st.offers ? 'This computer' : 'Invitation';
    $('inv-id-label').textContent = st.offers ? 'Its key' : 'Invitation';
    $('inv-id').textContent = st.offers ? (m.fingerprint || '') : (inv.id || '');
    $('inv-expires-label').hidden = $('inv-expires').hidden = st.offers;
    st.expires = inv.expires && !st.offers ? new Date(inv.expires) : null;
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
    if (status === 'waiting' && st.offers) {
      card.className = 'card status waiting';
      $('status-title').textContent = 'Waiting for an offer of help';
      $('status-detail').textContent = 'Helpers your administrator allows can offer you help. Nobody connects unless you accept.';
      $('title').textContent = (st.hostName ? st.hostName + ' · ' : '') + 'open to offers of help';
    } else if (status === 'waiting') {
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
      $('claim').textContent = st.offers
        ? '“' + st.helper + '” is the name your administrator gave this helper’s key' + (st.keyName ? ' (' + st.keyName + ')' : '') + '. If it is not who you expect, press Disconnect.'
        : '“' + st.helper + '” is the name your helper typed. Make sure it is who you expect; if not, press Disconnect.';
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
    $('share-card').hidden = !connected && st.transfers.size === 0;
    $('send-file').disabled = !connected;
    $('send-file').title = connected ? 'Choose a file on this computer to send to ' + st.helper : 'Nobody is connected';
    $('lets-title').textContent = 'Let ' + (st.helper || 'your helper') + '…';
    $('clipboard-hint').textContent = 'Text you copy goes to ' + (st.helper || 'your helper') +
      '; text they send lands on your clipboard.';
    for (const [id, c] of [['allow-files', 'files'], ['allow-clipboard', 'clipboard']]) {
      $(id).checked = connected && has(c);
      $(id).disabled = !connected;
    }
    input.disabled = !connected;
    $('chat-send').disabled = !connected;
    input.placeholder = connected ? 'Type a message…' : (status === 'waiting' ? 'Not connected yet' : 'The session has ended');
    $('chat-title').textContent = st.helper ? 'Chat with ' + st.helper : 'Chat with your helper';
    const offers = files.offers();
    document.title = 'gethelp · ' + (st.offer ? st.offer.helper + ' offers to help you'
      : st.request ? st.request.helper + ' asks to control your computer'
      : offers.length ? (offers[0].from || st.helper) + ' wants to send you ' + (offers.length === 1 ? offers[0].name : offers.length + ' files')
        : $('title').textContent);
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
    if (has('clipboard')) item(true, 'Shares your clipboard (text)');
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
    if (!gone.includes('control')) {
      if (by === 'disconnect') return ''; // the end of the session says it all
      return 'You stopped letting ' + who + ' ' + grantedText(gone) + '.';
    }
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
    st.granting = 'control';
    if (sendCommand(cmd)) closeRequest();
  }

  allowBtn.addEventListener('click', () => { if (!allowBtn.disabled) answer(true); });
  $('cd-deny').addEventListener('click', () => { answer(false); });
  // ESC in the dialog declines, like Deny.
  dialog.addEventListener('cancel', (e) => {
    e.preventDefault();
    answer(false);
  });
  // ---- Offers of help ----

  let acceptTimer = 0;

  // showOffer asks the person about st.offer, in a modal dialog whose safe
  // answer, Decline, has the focus.
  function showOffer() {
    const o = st.offer;
    $('od-title').textContent = o.helper + ' offers to help you';
    $('od-who').textContent = o.helper + ' is the name your administrator gave this helper' +
      (o.addr ? '; they are connecting from ' + o.addr : '') + '.';
    $('od-key').textContent = o.fingerprint ? 'Their key: ' + o.fingerprint : '';
    acceptBtn.disabled = true;
    clearTimeout(acceptTimer);
    acceptTimer = setTimeout(() => { acceptBtn.disabled = false; }, ALLOW_DELAY);
    if (!offerDialog.open) offerDialog.showModal();
    $('od-decline').focus();
    setStatus(st.status);
  }

  function closeOffer() {
    st.offer = null;
    clearTimeout(acceptTimer);
    if (offerDialog.open) offerDialog.close();
    setStatus(st.status);
  }

  function answerOffer(accept) {
    if (!st.offer) return;
    if (sendCommand({ type: 'consent', accept: accept })) {
      if (!accept) closeOffer();
      else offerDialog.close(); // the offer closes when the helper connects
    }
  }

  acceptBtn.addEventListener('click', () => { if (!acceptBtn.disabled) answerOffer(true); });
  $('od-decline').addEventListener('click', () => { answerOffer(false); });
  // ESC in the dialog declines, like Decline.
  offerDialog.addEventListener('cancel', (e) => {
    e.preventDefault();
    answerOffer(false);
  });

  $('stop-control').addEventListener('click', () => {
    st.granting = 'control';
    sendCommand({ type: 'revoke' });
  });

  // ---- Files and clipboard ----

  for (const [id, c] of [['allow-files', 'files'], ['allow-clipboard', 'clipboard']]) {
    $(id).addEventListener('change', (e) => {
      st.granting = c;
      if (!sendCommand({ type: e.target.checked ? 'grant' : 'revoke', capabilities: [c] })) setStatus(st.status);
    });
  }

  function onFileOffer(m) {
    const t = files.event(m);
    addLog((t.from || st.helper) + ' offered you ' + t.name + ' (' + sizeText(t.size) + ').', '', m.time);
  }

  function onFileDone(m) {
    const t = files.event(m);
    if (m.type === 'file_received') {
      addLog('You received ' + t.name + ' from ' + (t.from || st.helper) + ': saved to ' + localweb.homePath(t.path, st.home) + '.', '', m.time);
    } else {
      addLog(st.helper + ' received ' + t.name + ' (' + sizeText(t.size) + ').', '', m.time);
    }
  }

  function onFileFailed(m) {
    const was = st.transfers.get(m.id);
    const wasOffer = !!was && was.state === 'offer';
    const t = files.event(m);
    const who = t.from || st.helper || 'your helper';
    let text;
    if (t.dir === 'in') {
      text = m.reason === 'declined' ? 'You declined ' + t.name + '.'
        : (wasOffer ? who + ' withdrew ' + t.name : t.name + ' was not received') + ': ' + t.reason + '.';
    } else {
      text = m.reason === 'declined' ? cap(who) + ' declined ' + t.name + '.' : t.name + ' was not sent: ' + t.reason + '.';
    }
    addLog(text, m.reason === 'declined' ? '' : 'warn', m.time);
  }

  function statusText(t) {
    const who = t.from || st.helper || 'your helper';
    const pct = t.total ? Math.floor(100 * t.done / t.total) + '%' : '';
    switch (t.state) {
      case 'uploading': return 'Preparing… ' + pct;
      case 'preparing': return 'Checking the file…';
      case 'waiting': return 'Waiting for ' + who + ' to accept…';
      case 'accepted': return 'Accepted; waiting for the file…';
      case 'moving': return (t.dir === 'in' ? 'Receiving from ' : 'Sending to ') + who + '… ' + pct;
      case 'done': return t.dir === 'in' ? 'Saved to ' : 'Sent to ' + who;
      case 'declined': return t.dir === 'in' ? 'You declined it' : cap(who) + ' declined it';
      case 'failed': return (t.dir === 'in' ? 'Not received: ' : 'Not sent: ') + t.reason;
    }
    return '';
  }

  // showTransfers draws the offers waiting for an answer and the list of
  // transfers, newest first, and the state that depends on them.
  function showTransfers() {
    files.draw();
    setStatus(st.status);
  }

  // ---- Sending files ----

  $('send-file').addEventListener('click', () => { $('file-input').click(); });
  $('file-input').addEventListener('change', async (e) => {
    const chosen = [...e.target.files];
    e.target.value = '';
    for (const f of chosen) await files.send(f);
  });

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

  function emptyNote() { chat.empty('Messages you and your helper write appear here.'); }

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
