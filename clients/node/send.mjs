// Sends Segment calls through the published @segment/analytics-node client, unmodified but for
// its host, and prints what the client saw as one JSON object on stdout.
//
//   node send.mjs HOST WRITE_KEY < calls.json
//
// calls.json is a list of {"method": "identify" | "track" | ..., "args": {...}}; "args" is what
// the client's method takes (userId, traits, event, properties, ...).
import { readFileSync } from 'node:fs'
import { Analytics } from '@segment/analytics-node'

const [host, writeKey] = process.argv.slice(2)
const calls = JSON.parse(readFileSync(0, 'utf8'))

const analytics = new Analytics({ writeKey, host })
const seen = { requests: 0, statuses: [], errors: [], callbacks: [] }
analytics.on('http_request', () => { seen.requests += 1 })
analytics.on('http_response', (response) => { seen.statuses.push(response.status) })
analytics.on('error', (error) => {
  seen.errors.push({ code: error.code, reason: String(error.reason ?? error) })
})

const done = calls.map(
  ({ method, args }) =>
    new Promise((resolve) => {
      analytics[method](args, (error) => {
        seen.callbacks.push(error ? String(error.reason ?? error) : null)
        resolve()
      })
    })
)
await analytics.closeAndFlush({ timeout: 20000 })
await Promise.all(done)
process.stdout.write(JSON.stringify(seen) + '\n')
