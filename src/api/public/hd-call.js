/*
 * The /hd-call page: one WebRTC call to the voice agent. Microphone → RTCPeerConnection (Opus,
 * 48 kHz) → POST /v1/webrtc/offer; the agent's audio plays from the remote track; status and the
 * transcript arrive on the "events" data channel. No dependencies, no third-party requests.
 */
/* global document, window, navigator, location, fetch, URLSearchParams, RTCPeerConnection, MediaStream, AudioContext */
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $('status'), start: $('start'), hangup: $('hangup'), transcript: $('transcript'),
    micLevel: $('mic-level'), agentLevel: $('agent-level'), audio: $('agent-audio'), tenant: $('tenant'),
  };
  const params = new URLSearchParams(location.search);
  const tenantId = (params.get('tenant_id') || '').trim();
  /** Minted by the tenant's web site when the tenant requires one (a link like /hd-call?tenant_id=…&join_token=…). */
  const joinToken = (params.get('join_token') || '').trim();
  const LABELS = { idle: 'Ready', connecting: 'Connecting…', listening: 'Listening', agent_speaking: 'Agent speaking', ended: 'Call ended' };
  const ENDED = {
    caller_hangup: 'Call ended.',
    agent_hangup: 'The agent ended the call.',
    max_duration: 'The maximum call length was reached.',
    connect_timeout: 'Could not connect to the server.',
    connection_failed: 'The connection failed.',
    connection_lost: 'The connection was lost.',
    connection_closed: 'The connection closed.',
    media_timeout: 'The server stopped receiving audio from this browser.',
    server_shutdown: 'The server is restarting; please call again.',
  };
  /** Host candidates take milliseconds; a stuck gatherer must not hold the call up. */
  const GATHER_TIMEOUT_MS = 2000;
  /** Level meters refresh at 20 Hz. */
  const METER_EVERY_MS = 50;

  let call = null;

  ui.tenant.textContent = tenantId || '(none)';
  if (!tenantId) setStatus('error', 'Add ?tenant_id=… to the address to choose who to call.');

  function setStatus(state, text) {
    ui.status.dataset.state = state;
    ui.status.textContent = text || LABELS[state] || state;
  }

  function addLine(role, text) {
    const li = document.createElement('li');
    li.className = role;
    li.textContent = text;
    ui.transcript.append(li);
    li.scrollIntoView({ block: 'nearest' });
  }

  function micError(e) {
    switch (e && e.name) {
      case 'NotAllowedError':
      case 'SecurityError':
        return 'Microphone permission denied. Allow the microphone for this site, then try again.';
      case 'NotFoundError':
        return 'No microphone found.';
      case 'NotReadableError':
        return 'The microphone is in use by another application.';
      default:
        return 'The microphone could not be opened: ' + ((e && e.message) || e);
    }
  }

  function gathered(pc) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** RMS of the stream's audio, shown on `meter`; its highest value is kept in data-peak. */
  function watchLevel(c, meter, stream) {
    const analyser = c.ctx.createAnalyser();
    analyser.fftSize = 1024;
    c.ctx.createMediaStreamSource(stream).connect(analyser);
    c.meters.push({ meter, analyser, buf: new Float32Array(analyser.fftSize) });
  }

  function updateMeters(c) {
    for (const m of c.meters) {
      m.analyser.getFloatTimeDomainData(m.buf);
      let sum = 0;
      for (let i = 0; i < m.buf.length; i += 1) sum += m.buf[i] * m.buf[i];
      const level = Math.min(1, Math.sqrt(sum / m.buf.length) * 4);
      m.meter.value = level;
      if (level > Number(m.meter.dataset.peak)) m.meter.dataset.peak = level.toFixed(4);
    }
  }

  function onMessage(data) {
    let m;
    try {
      m = JSON.parse(data);
    } catch {
      return;
    }
    if (m.type === 'status') setStatus(m.status);
    else if (m.type === 'transcript') addLine(m.role === 'caller' ? 'caller' : 'agent', String(m.text));
    else if (m.type === 'ended') end(ENDED[m.reason] || 'Call ended.', 'ended', false);
  }

  async function start() {
    if (call || !tenantId) return;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      setStatus('error', 'Microphone access needs HTTPS (or localhost).');
      return;
    }
    // Created in the click itself, so the browser lets it play.
    const ctx = new AudioContext();
    ui.start.disabled = true;
    setStatus('connecting');
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 } });
    } catch (e) {
      ctx.close();
      ui.start.disabled = false;
      setStatus('error', micError(e));
      return;
    }
    // No ICE servers: the browser reaches the server directly, and asks no third party anything.
    const pc = new RTCPeerConnection({ iceServers: [] });
    const c = { pc, ctx, stream, dc: null, sessionId: null, meters: [], timer: 0 };
    call = c;
    ui.hangup.disabled = false;
    for (const track of stream.getAudioTracks()) pc.addTrack(track, stream);
    c.dc = pc.createDataChannel('events');
    c.dc.onmessage = (e) => onMessage(e.data);
    pc.ontrack = (e) => {
      const remote = e.streams[0] || new MediaStream([e.track]);
      // Chromium feeds a remote track to WebAudio only while a media element plays it too.
      ui.audio.srcObject = remote;
      ui.audio.play().catch(() => undefined);
      watchLevel(c, ui.agentLevel, remote);
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed') end(ENDED.connection_failed, 'error', true);
    };
    watchLevel(c, ui.micLevel, stream);
    c.timer = setInterval(() => updateMeters(c), METER_EVERY_MS);
    ctx.resume().catch(() => undefined);
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      const res = await fetch('/v1/webrtc/offer', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(joinToken ? { tenant_id: tenantId, join_token: joinToken, offer: pc.localDescription } : { tenant_id: tenantId, offer: pc.localDescription }),
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(body.message || 'The server refused the call (HTTP ' + res.status + ').');
      c.sessionId = body.session_id;
      document.body.dataset.session = c.sessionId;
      if (call !== c) return hangupOnServer(c); // hung up while the offer was on its way
      await pc.setRemoteDescription(body.answer);
    } catch (e) {
      end((e && e.message) || String(e), 'error', true);
    }
  }

  function hangupOnServer(c) {
    if (c.dc && c.dc.readyState === 'open') {
      try {
        c.dc.send(JSON.stringify({ type: 'hangup' }));
      } catch {
        // the POST below covers it
      }
    }
    if (!c.sessionId) return;
    fetch('/v1/webrtc/hangup', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ session_id: c.sessionId }),
      keepalive: true,
    }).catch(() => undefined);
  }

  function end(message, state, tellServer) {
    const c = call;
    if (!c) return;
    call = null;
    if (tellServer) hangupOnServer(c);
    clearInterval(c.timer);
    for (const t of c.stream.getTracks()) t.stop();
    c.pc.close();
    c.ctx.close().catch(() => undefined);
    ui.audio.srcObject = null;
    ui.micLevel.value = 0;
    ui.agentLevel.value = 0;
    ui.hangup.disabled = true;
    ui.start.disabled = false;
    setStatus(state, message);
  }

  ui.start.addEventListener('click', () => void start());
  ui.hangup.addEventListener('click', () => end('Call ended.', 'ended', true));
  window.addEventListener('pagehide', () => end('Call ended.', 'ended', true));
})();
