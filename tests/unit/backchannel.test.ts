/** The backchannel classifier: what said over the agent does not take the turn. */
import { isBackchannel } from '../../src/media/conversation/phrases';

describe('isBackchannel', () => {
  it.each(['Uh-huh.', 'mm-hmm', 'Mhm', 'Yeah.', 'Okay, right.', 'Sure!', 'I see.', 'got it', 'Uh huh', '…', '♪', ''])('an acknowledgement, or nothing said: %j', (text) => {
    expect(isBackchannel(text)).toBe(true);
  });

  it.each(['Wait, stop, I have a question.', 'Yeah, but what about Tuesday?', 'No.', 'okay okay okay', 'Can you repeat that?'])('speech that takes the turn: %j', (text) => {
    expect(isBackchannel(text)).toBe(false);
  });

  it.each(['Подождите, у меня вопрос.', '待ってください', 'لحظة من فضلك', 'Moment, bitte.', 'Ja, aber wann?', 'Ja.'])(
    'other languages are speech unless the tenant lists the word: %j',
    (text) => {
      expect(isBackchannel(text)).toBe(false);
    },
  );

  it("a tenant's own words count too, alone or in pairs", () => {
    const de = ['ja', 'genau', 'mhm'];
    expect(isBackchannel('Ja.', de)).toBe(true);
    expect(isBackchannel('Ja, genau.', de)).toBe(true);
    expect(isBackchannel('Ja, aber wann?', de)).toBe(false);
    expect(isBackchannel('Genau', ['Genau'])).toBe(true);
    expect(isBackchannel("D'accord.", ["d'accord"])).toBe(true);
  });
});
