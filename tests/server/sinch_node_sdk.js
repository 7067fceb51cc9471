// Sinch's official Node SDK (@sinch/sdk-core, pinned in package.json) driving a Calling API server:
// every voice operation it has, in two phases (the test moves the server's clock in between).
// Usage: node sinch_node_sdk.js BASE_URL KEY SECRET PHASE STATE_FILE OUT_FILE
const fs = require('fs');
const { VoiceService } = require('@sinch/sdk-core');

const [base, key, secret, phase, stateFile, outFile] = process.argv.slice(2);
const voice = new VoiceService({
  applicationKey: key,
  applicationSecret: secret,
  voiceHostname: base,
  voiceApplicationManagementHostname: base,
});
const state = stateFile && fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, 'utf8')) : {};
const out = {};

async function step(name, call) {
  try {
    out[name] = { ok: true, value: (await call()) ?? null };
  } catch (error) {
    out[name] = { ok: false, error: String((error && error.message) || error), data: error && error.data };
  }
}

const destination = { type: 'number', endpoint: '+46730170101' };

async function place() {
  await step('listNumbers', () => voice.applications.listNumbers());
  await step('assignNumbers', () => voice.applications.assignNumbers({
    assignNumbersRequestBody: { numbers: ['+46730170101'], applicationkey: key, capability: 'voice' },
  }));
  await step('unassignNumber', () => voice.applications.unassignNumber({
    unassignNumbersRequestBody: { number: '+46730170101', applicationkey: key, capability: 'voice' },
  }));
  await step('updateCallbackURLs', () => voice.applications.updateCallbackURLs({
    applicationkey: key,
    updateCallbacksRequestBody: { url: { primary: 'https://example.com/primary', fallback: 'https://example.com/fallback' } },
  }));
  await step('getCallbackURLs', () => voice.applications.getCallbackURLs({ applicationkey: key }));
  await step('queryNumber', () => voice.applications.queryNumber({ number: '+46730170101' }));
  await step('tts', () => voice.callouts.tts({ ttsCalloutRequestBody: { method: 'ttsCallout', ttsCallout: {
    destination, cli: '+46000000000', text: 'Hello from Node. '.repeat(20), locale: 'en-US/male', custom: 'node',
  } } }));
  await step('custom', () => voice.callouts.custom({ customCalloutRequestBody: { method: 'customCallout', customCallout: {
    cli: '+46000000000',
    destination,
    custom: 'node',
    ice: JSON.stringify({
      instructions: [{ name: 'say', text: 'Hi', locale: 'en-US/male' }],
      action: { name: 'connectPstn', number: '+46730170101', cli: '+46000000000' },
    }),
    ace: JSON.stringify({ action: { name: 'runMenu', locale: 'Kimberly', menus: [
      { id: 'main', mainPrompt: '#tts[Press 1]', options: [{ dtmf: '1', action: 'return(one)' }] },
    ] } }),
    pie: 'https://example.com/pie',
  } } }));
  await step('conference', () => voice.conferences.call({ conferenceCalloutRequestBody: {
    method: 'conferenceCallout',
    conferenceCallout: {
      destination, conferenceId: 'node-room', cli: '+46000000000', greeting: 'Welcome', mohClass: 'music1',
      conferenceDtmfOptions: { mode: 'detect', maxDigits: 2, timeoutMills: 5000 },
    },
  } }));
  await step('conferenceAgain', () => voice.callouts.conference({ conferenceCalloutRequestBody: {
    method: 'conferenceCallout',
    conferenceCallout: { destination: { type: 'number', endpoint: '+46708168731' }, conferenceId: 'node-room' },
  } }));
}

async function manage() {
  const { tts, first, second } = state;
  await step('getCall', () => voice.calls.get({ callId: tts }));
  await step('update', () => voice.calls.update({ callId: tts, updateCallRequestBody: {
    instructions: [{ name: 'say', text: 'Still there?', locale: 'en-US' }], action: { name: 'continue' },
  } }));
  await step('manageWithCallLeg', () => voice.calls.manageWithCallLeg({ callId: tts, callLeg: 'callee',
    manageWithCallLegRequestBody: { instructions: [{ name: 'playFiles', ids: ['#tts[Bye]'], locale: 'en-US' }], action: { name: 'hangup' } },
  }));
  await step('getConference', () => voice.conferences.get({ conferenceId: 'node-room' }));
  await step('manageParticipant', () => voice.conferences.manageParticipant({
    conferenceId: 'node-room', callId: first, manageParticipantRequestBody: { command: 'onhold', moh: 'music2' },
  }));
  await step('getConferenceAgain', () => voice.conferences.get({ conferenceId: 'node-room' }));
  await step('kickParticipant', () => voice.conferences.kickParticipant({ conferenceId: 'node-room', callId: second }));
  await step('kickAll', () => voice.conferences.kickAll({ conferenceId: 'node-room' }));
  await step('unknownCall', () => voice.calls.get({ callId: '0'.repeat(32) }));
}

(phase === 'place' ? place() : manage()).then(() => fs.writeFileSync(outFile, JSON.stringify(out)));
