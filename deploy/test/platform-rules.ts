import type { Doc } from './manifests.js'

/**
 * What a platform team expects of any Deployment beyond zero downtime: the HPA alone owns the
 * scale, a pinned image, and a container that runs as little as it needs. Each check returns
 * the broken rules in words (empty when all hold).
 */
export function kubernetesPlatform(docs: Doc[]): string[] {
  const problems: string[] = []
  const need = (ok: boolean, rule: string) => {
    if (!ok) problems.push(rule)
  }
  for (const deployment of docs.filter((d) => d.kind === 'Deployment')) {
    const name = deployment.metadata?.name
    const scaledBy = docs.find(
      (d) =>
        d.kind === 'HorizontalPodAutoscaler' &&
        d.spec?.scaleTargetRef?.kind === 'Deployment' &&
        d.spec.scaleTargetRef.name === name,
    )
    need(Boolean(scaledBy), `${name}: an HPA scales it`)
    need(deployment.spec?.replicas === undefined, `${name}: no replicas (its HPA owns the count; each apply would reset it)`)
    need(
      docs.some((d) => d.kind === 'PodDisruptionBudget' && d.spec?.selector?.matchLabels?.['app.kubernetes.io/name'] === name),
      `${name}: a PodDisruptionBudget`,
    )
    const pod = deployment.spec?.template?.spec ?? {}
    need(pod.securityContext?.runAsNonRoot === true, `${name}: runAsNonRoot`)
    need(pod.securityContext?.seccompProfile?.type === 'RuntimeDefault', `${name}: the RuntimeDefault seccomp profile`)
    need(pod.automountServiceAccountToken === false, `${name}: no service account token (TMS calls no Kubernetes API)`)
    for (const container of pod.containers ?? []) {
      const image = String(container.image ?? '')
      const tag = /:([^/:@]+)$/.exec(image)?.[1]
      need(
        tag !== undefined && tag !== 'latest',
        `${name}/${container.name}: the image has a release tag, not :latest (${image})`,
      )
      const security = container.securityContext ?? {}
      need(security.readOnlyRootFilesystem === true, `${name}/${container.name}: readOnlyRootFilesystem`)
      need(security.allowPrivilegeEscalation === false, `${name}/${container.name}: allowPrivilegeEscalation false`)
      need(
        JSON.stringify(security.capabilities?.drop) === '["ALL"]' && !security.capabilities?.add,
        `${name}/${container.name}: every capability dropped`,
      )
      need(container.resources?.limits?.memory !== undefined, `${name}/${container.name}: a memory limit`)
    }
  }
  return problems
}

/**
 * What ECS refuses only when the task definition is registered or a task starts, which the AWS
 * CLI's parameter check cannot see: Fargate pulls the image and reads `secrets` and `awslogs`
 * with the execution role, so without one registration fails.
 */
export function ecsTaskPlatform(task: Doc): string[] {
  const problems: string[] = []
  const need = (ok: boolean, rule: string) => {
    if (!ok) problems.push(rule)
  }
  const containers: Doc[] = task.containerDefinitions ?? []
  const needsExecutionRole = containers.some(
    (c) => (c.secrets ?? []).length > 0 || c.logConfiguration?.logDriver === 'awslogs' || /\.ecr\./.test(c.image ?? ''),
  )
  need(!needsExecutionRole || Boolean(task.executionRoleArn), `${task.family}: an executionRoleArn (secrets, awslogs, ECR)`)
  need(Boolean(task.taskRoleArn), `${task.family}: a taskRoleArn of its own`)
  for (const container of containers) {
    const tag = /:([^/:@]+)$/.exec(String(container.image ?? ''))?.[1]
    need(tag !== undefined && tag !== 'latest', `${task.family}/${container.name}: the image has a release tag, not :latest`)
    need(container.readonlyRootFilesystem === true, `${task.family}/${container.name}: readonlyRootFilesystem`)
  }
  return problems
}
