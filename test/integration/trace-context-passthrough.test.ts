import { FAST_PATH_MODES, type RunningProcess } from '../helpers/processes';
import { sendRaw, startRecordingWorker, type RecordingWorker } from '../helpers/raw-http';
import { startIdentityWorker } from '../helpers/identity-worker';
import { startBalancerFronting } from '../helpers/registration';

/** W3C Trace Context (https://www.w3.org/TR/trace-context/): the balancer is no tracing participant, so both pass untouched. */
const TRACEPARENT = 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TRACESTATE = 'TraceState: congo=t61rcWkgMzE,rojo=00f067aa0ba902b7 , vendor3=a=b';

describe.each(FAST_PATH_MODES)('traceparent and tracestate (FAST_PATH=%s)', (fastPath) => {
  let recording: RecordingWorker;
  let echoing: Awaited<ReturnType<typeof startIdentityWorker>>;
  let toRecording: RunningProcess;
  let toEchoing: RunningProcess;

  beforeAll(async () => {
    recording = await startRecordingWorker();
    echoing = await startIdentityWorker();
    toRecording = await startBalancerFronting(recording.url, 'recording', { FAST_PATH: fastPath });
    toEchoing = await startBalancerFronting(echoing.url, 'echoing', { FAST_PATH: fastPath });
  });
  afterAll(async () => {
    await Promise.all([toRecording?.stop(), toEchoing?.stop()]);
    await Promise.all([recording?.close(), echoing?.close()]);
  });

  it('reach the worker byte for byte, in their own spelling', async () => {
    const response = await sendRaw(toRecording.port, `GET /t HTTP/1.1\r\nHost: shop.example\r\n${TRACEPARENT}\r\n${TRACESTATE}\r\n\r\n`);
    expect(response?.status).toBe(200);
    const lines = recording.received.at(-1)!.split('\r\n');
    expect(lines).toContain(TRACEPARENT);
    // node's parser trims the optional whitespace at the value's ends only; the inner spaces are the client's.
    expect(lines).toContain(TRACESTATE);
  });

  it('come back to the client as the worker sent them', async () => {
    const response = await sendRaw(toEchoing.port, `GET /echo-trace HTTP/1.1\r\nHost: shop.example\r\n${TRACEPARENT}\r\n${TRACESTATE}\r\n\r\n`);
    expect(response?.status).toBe(200);
    const lines = response!.head.split('\r\n');
    expect(lines).toContain(TRACEPARENT);
    expect(lines).toContain(TRACESTATE);
  });
});
