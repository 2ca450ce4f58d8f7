declare module 'dmn-js/lib/Modeler' {
  // dmn-js ships no type declarations; the editor uses it through a narrow surface.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const DmnModeler: any;
  export default DmnModeler;
}
