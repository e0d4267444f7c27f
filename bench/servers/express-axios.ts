import { Agent } from 'node:http';
import axios from 'axios';
import express from 'express';
import { HOST, peerEnv, roundRobin } from './env';

/**
 * Peer "express-axios": the seed's style of gateway. Express routes every request, axios fetches the
 * whole answer from the next worker in turn, and Express sends the buffered body back. It gets a
 * keep-alive agent so the comparison is about buffering and framework cost, not connection setup.
 */
const { port, upstreams } = peerEnv();
const next = roundRobin(upstreams);
const httpAgent = new Agent({ keepAlive: true, maxSockets: Infinity });
const app = express();
app.disable('x-powered-by');
app.use(async (req, res) => {
  try {
    const answer = await axios.request({ method: req.method, url: next() + req.url, httpAgent, validateStatus: () => true, responseType: 'text' });
    res
      .status(answer.status)
      .type(String(answer.headers['content-type'] ?? 'text/plain'))
      .send(answer.data);
  } catch {
    res.status(502).send('Bad Gateway');
  }
});
app.listen(port, HOST);
