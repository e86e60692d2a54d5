export { baseImage, LOCAL_BASE, NODE_MAJOR, OFFICIAL_BASE } from './base-image.js'
export { APPS, type BuiltImage, buildImages, type ImageApp, imageName, releaseTag } from './build-images.js'
export { AppContainer, type ContainerLogLine } from './container.js'
export { CONTAINER_LIMITS, imageExists, imageSize, PODMAN_GLOBAL, podman, podmanSync } from './podman.js'
