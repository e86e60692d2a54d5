import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/**
 * Each file under deploy/ecs is the `--cli-input-json` of exactly one AWS CLI command: the file
 * is what the command takes, nothing else (no comments; those are in deploy/README.md).
 */
export const ECS_COMMANDS: Record<string, readonly [service: string, command: string]> = {
  'ecs/api-task-definition.json': ['ecs', 'register-task-definition'],
  'ecs/api-service.json': ['ecs', 'create-service'],
  'ecs/api-target-group.json': ['elbv2', 'create-target-group'],
  'ecs/api-target-group-attributes.json': ['elbv2', 'modify-target-group-attributes'],
  'ecs/api-load-balancer-attributes.json': ['elbv2', 'modify-load-balancer-attributes'],
  'ecs/worker-task-definition.json': ['ecs', 'register-task-definition'],
  'ecs/worker-service.json': ['ecs', 'create-service'],
  'ecs/worker-scalable-target.json': ['application-autoscaling', 'register-scalable-target'],
  'ecs/worker-scaling-policy.json': ['application-autoscaling', 'put-scaling-policy'],
}

/** Debian's AWS CLI (package awscli), which `npm test` installs; another on PATH otherwise. */
const AWS = existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws'

/** Nothing answers here: the request, once the CLI has accepted its input, fails to connect. */
const NOWHERE = 'http://127.0.0.1:9'

export interface CliCheck {
  /** The CLI accepted the input and only then failed, to connect to NOWHERE. */
  accepted: boolean
  output: string
}

/**
 * Runs the command on the file as an operator would, offline: fake credentials, no config files,
 * one attempt against an endpoint that refuses the connection. The CLI validates the input
 * against the service's model before it sends anything, so any answer but the connection error
 * is the CLI refusing the file.
 */
export function runAwsCli(service: string, command: string, file: string): CliCheck {
  const result = spawnSync(
    AWS,
    [service, command, '--cli-input-json', `file://${file}`, '--endpoint-url', NOWHERE, '--cli-connect-timeout', '2'],
    {
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
        AWS_SECRET_ACCESS_KEY: 'fake-secret-for-offline-validation',
        AWS_DEFAULT_REGION: 'eu-west-1',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_MAX_ATTEMPTS: '1',
        AWS_RETRY_MODE: 'standard',
        AWS_PAGER: '',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    },
  )
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? result.error.message : ''}`.trim()
  return { accepted: /Could not connect to the endpoint URL/.test(output), output }
}
