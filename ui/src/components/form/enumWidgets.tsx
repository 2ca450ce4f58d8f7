/**
 * rjsf's select and radio widgets with an enum's null choice named for the clinician: rjsf labels every choice with
 * its value when the form gives no `ui:enumNames`, so a `["string", "null"]` field's empty choice read "null".
 */
import { getDefaultRegistry } from '@rjsf/core';
import type { EnumOptionsType, WidgetProps } from '@rjsf/utils';

export const NO_CHOICE = '（未选择）';

/** The options with the null choice labelled `NO_CHOICE` (a label the form gave it stays). */
export function labelNullChoice(options: EnumOptionsType[] | undefined): EnumOptionsType[] | undefined {
  return options?.map((o) => (o.value === null && (o.label === 'null' || o.label === '') ? { ...o, label: NO_CHOICE } : o));
}

const defaults = getDefaultRegistry().widgets;

function withNamedNull(props: WidgetProps): WidgetProps {
  return { ...props, options: { ...props.options, enumOptions: labelNullChoice(props.options.enumOptions) } };
}

export function SelectWidget(props: WidgetProps) {
  const Select = defaults.SelectWidget;
  return <Select {...withNamedNull(props)} />;
}

export function RadioWidget(props: WidgetProps) {
  const Radio = defaults.RadioWidget;
  return <Radio {...withNamedNull(props)} />;
}
