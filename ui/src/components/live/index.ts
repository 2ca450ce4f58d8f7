/** Live room components (issue 17.2, 17.3): `<VitalsPanel kind ref/>` and `<VideoRoom kind ref/>`. */
export { default as VitalsPanel } from './VitalsPanel';
export { default as VideoRoom } from './VideoRoom';
export type { LiveProps } from './VitalsPanel';
